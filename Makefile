# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := commissioning.settings

.PHONY: run test install install-dev lock migrate seed lint format worker clean assets chromium pango

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when pyproject.toml or the lock changes. requirements.lock pins every
# dependency at the version CI tested (`make lock` writes it anew from pyproject.toml).
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml requirements.lock $(VENV)/.installed
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[dev]'
	{ sed -n '1,3p' requirements.lock; .venv-lock/bin/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .venv-lock

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Front-end packages from npm (package-lock.json pins them), copied into var/assets/ and
# served under /static/npm/. The NHS CDN's @font-face rules are taken out of the CSS (the
# pages never call out; the font stack falls back to Arial) and the build fails if any
# external URL is left.
NPM ?= npm
ASSETS := var/assets

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund

$(ASSETS)/.built: node_modules/.package-lock.json
	mkdir -p $(ASSETS)/nhsuk-frontend $(ASSETS)/htmx
	sed -E 's/@font-face\{[^}]*\}//g; s@/\*# sourceMappingURL=[^*]*\*/@@' \
		node_modules/nhsuk-frontend/dist/nhsuk.min.css > $(ASSETS)/nhsuk-frontend/nhsuk.min.css
	sed -E 's@//# sourceMappingURL=.*$$@@' \
		node_modules/nhsuk-frontend/dist/nhsuk.min.js > $(ASSETS)/nhsuk-frontend/nhsuk.min.js
	cp node_modules/htmx.org/dist/htmx.min.js $(ASSETS)/htmx/htmx.min.js
	@if grep -Eq 'url\((https?:)?//' $(ASSETS)/nhsuk-frontend/nhsuk.min.css; then \
		echo "An external URL is left in nhsuk.min.css"; exit 1; fi
	@touch $@

assets: $(ASSETS)/.built

# The browser tests drive Debian's Chromium (CI runs as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

# Board packs' PDFs are typeset by WeasyPrint, which needs Pango from the system.
pango:
	@ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || \
		(apt-get update && apt-get install -y libpango-1.0-0 libpangoft2-1.0-0) || \
		echo "WARNING: install Pango (libpango-1.0-0 libpangoft2-1.0-0) for PDF board packs."

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py load_seed_data --demo

run: seed assets pango
	@$(BIN)/python manage.py ensure_demo_user
	@echo "Open http://127.0.0.1:$(PORT)/ and sign in with the login above."
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install-dev assets chromium pango
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	$(BIN)/celery -A commissioning worker --loglevel=info

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache $(ASSETS) node_modules
