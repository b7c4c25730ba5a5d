FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY commissioning commissioning
COPY strategies strategies
COPY indicators indicators
COPY actions actions
COPY scorecard scorecard
RUN pip install --no-cache-dir -e .
COPY . .
RUN useradd --create-home scorecard && mkdir -p /data/files && chown -R scorecard /app /data
USER scorecard
EXPOSE 8000
