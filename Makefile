# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CUSTOMERS ?= 2000
DEMO_SEED ?= 7

CHP := node_modules/.bin/configurable-http-proxy

.PHONY: install demo hub test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ecc needs Python 3.11+"'
	@# Debian's Chromium drives the browser tests and PDF reports (Playwright cannot download one)
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils fonts-dejavu-core; fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# JupyterHub's proxy, from npm into the project's node_modules/ (Node.js from Debian)
$(CHP):
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; fi
	npm install --prefix $(CURDIR) --no-save --no-package-lock --no-audit --no-fund --loglevel=error configurable-http-proxy@5

install: $(STAMP) $(CHP)

PORT ?= 8866

demo: install
	$(BIN)/ecc demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	$(BIN)/ecc refresh
	$(BIN)/ecc metrics --preset this_quarter --format table
	$(BIN)/ecc serve --port $(PORT)

# The front door: JupyterHub + proxy + the dashboards service, one demo user per role
hub: install
	$(BIN)/ecc demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	$(BIN)/ecc refresh
	$(BIN)/ecc hub start

lint: install
	$(BIN)/ruff check ecc tests benchmarks

typecheck: install
	$(BIN)/mypy ecc

unit: install
	$(BIN)/pytest -q -n 2 --dist loadgroup tests

test: lint typecheck unit

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data node_modules .pytest_cache .mypy_cache .ruff_cache
