# The one image for web, worker and beat (docker-compose.yml runs it three ways).
# Front-end packages come from npm at build time and are copied into var/assets with the
# NHS CDN's @font-face rules taken out (as `make assets` does): the pages never call out.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev \
 && mkdir -p assets/nhsuk-frontend assets/htmx \
 && sed -E 's/@font-face\{[^}]*\}//g; s@/\*# sourceMappingURL=[^*]*\*/@@' \
      node_modules/nhsuk-frontend/dist/nhsuk.min.css > assets/nhsuk-frontend/nhsuk.min.css \
 && sed -E 's@//# sourceMappingURL=.*$@@' \
      node_modules/nhsuk-frontend/dist/nhsuk.min.js > assets/nhsuk-frontend/nhsuk.min.js \
 && cp node_modules/htmx.org/dist/htmx.min.js assets/htmx/htmx.min.js \
 && if grep -Eq 'url\((https?:)?//' assets/nhsuk-frontend/nhsuk.min.css; then \
      echo "An external URL is left in nhsuk.min.css"; exit 1; fi

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/files \
    LOG_FORMAT=json
WORKDIR /app
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml requirements.lock README.md ./
COPY commissioning commissioning
COPY strategies strategies
COPY indicators indicators
COPY actions actions
COPY scorecard scorecard
RUN pip install --no-cache-dir -c requirements.lock -e .
COPY . .
COPY --from=assets /build/assets var/assets
# Static files are collected into the image (WhiteNoise serves them, hashed and
# compressed). The values here exist only for this build step; the real ones come from
# the environment at run time and start-up stops if one is missing.
RUN SECRET_KEY=build-only-not-a-secret ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
 && rm -f /tmp/build.sqlite3
RUN useradd --create-home --uid 10001 scorecard \
 && mkdir -p /data/files \
 && chown -R scorecard /data /app/var
USER scorecard
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "commissioning.wsgi:application", "--config", "commissioning/gunicorn.conf.py"]
