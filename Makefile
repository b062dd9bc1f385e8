# The two commands of the README: `make run` (install + serve) and `make test` (install + the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test install install-dev chromium postgres lint

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kizuna needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[postgres,dask,dev,bench]'

run: install
	$(BIN)/kizuna serve

# Debian's chromium drives the browser tests; Playwright never downloads a browser here.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# The PostgreSQL tests need a real server; start the local cluster if it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@pg_isready -h 127.0.0.1 -p 5432

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: install-dev chromium postgres lint
	KIZUNA_TEST_PG=$(PG_URL) $(BIN)/python -m pytest
