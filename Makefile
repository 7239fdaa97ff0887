# Two entry points for people (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(abspath $(VENV))/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install test test-postgres demo demo-https lint docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,docs]'
	touch $@

install: $(VENV)/.installed

## Runs the whole suite (SQLite by default; set DATABASE_URL for PostgreSQL).
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## The same suite on the machine's PostgreSQL, where row-lock and concurrency tests run for real.
test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .

## The documentation site, strict: a broken link or a page missing from nav fails.
docs: install
	$(PY) -m mkdocs build --strict --site-dir site

## The example registrar on SQLite, seeded, at http://127.0.0.1:$(PORT)/
demo: install
	cd example_project && $(PY) manage.py migrate --noinput
	cd example_project && $(PY) manage.py seed_demo
	cd example_project && PORT=$(PORT) $(PY) manage.py rundemo 127.0.0.1:$(PORT)

## The same over HTTPS (self-signed certificate), for real Service Provider clients: see docs/example-project.md
demo-https: install
	cd example_project && $(PY) manage.py migrate --noinput
	cd example_project && $(PY) manage.py seed_demo
	cd example_project && $(PY) manage.py rundemo 127.0.0.1:$(PORT) --https

clean:
	rm -rf $(VENV) example_project/db.sqlite3 site
