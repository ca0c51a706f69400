# OfficePulse: `make run` serves the app, `make test` runs ruff and the whole test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_RESPONSES ?= 0
export HOST PORT

.PHONY: run test setup translations bytecode lint clean messages browser-deps screenshots bench

$(PY):
	python3 -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PIP) -r requirements-dev.txt
	touch $@

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -d app/translations

# Compile the project's modules once, so that every process (each CLI command, each worker) starts without
# compiling them, also where PYTHONDONTWRITEBYTECODE keeps Python from writing .pyc files itself.
bytecode: $(VENV)/.installed
	$(PY) -m compileall -q app analysis surveys wsgi.py gunicorn.conf.py >/dev/null

# Create or upgrade the database, import the bundled surveys, open a demo campaign, create the admin.
setup: $(VENV)/.installed translations bytecode
	$(FLASK) db upgrade
	$(FLASK) bootstrap --demo-responses $(DEMO_RESPONSES)

run: setup
	$(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -r app surveys analysis -ll

test: $(VENV)/.installed-dev translations lint browser-deps
	$(PY) -m pytest

# The browser tests (tests/browser) drive Debian's Chromium through Playwright, which never downloads a browser
# of its own; CJK fonts make the Chinese pages readable; axe-core is pinned by tests/browser/package-lock.json.
browser-deps: tests/browser/node_modules/.installed
	@command -v chromium >/dev/null && dpkg -s fonts-noto-cjk >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm)
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Run the browser tests and keep their pictures in docs/screenshots/ (and the page weight in docs/page-weight.md).
screenshots: $(VENV)/.installed-dev translations browser-deps
	SCREENSHOTS=1 $(PY) -m pytest -q tests/browser

# Benchmarks (about 30 min), written to docs/benchmarks.md: the analysis of 100,000 responses against plain pandas,
# the charts and the results page; submissions against gunicorn on SQLite and PostgreSQL, with the export.
bench: $(VENV)/.installed-dev translations bytecode
	$(PY) -m bench.bench_analysis
	$(PY) -m bench.bench_submit

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Refresh the message catalog after changing UI strings (then translate the new entries in messages.po).
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --no-location --sort-output -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
