# The two commands of the README: `make demo` and `make test`.
# As root, the virtualenv is made from the system's Python, which analysts' JupyterLab
# (run as their own system users) can execute too; a Python under /root is private.
SYSTEM_PYTHON := $(shell [ "$$(id -u)" = 0 ] && /usr/bin/python3 -c 'import sys, ensurepip; assert sys.version_info >= (3, 11)' 2>/dev/null && echo /usr/bin/python3)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CUSTOMERS ?= 2000
DEMO_SEED ?= 7

CHP := node_modules/.bin/configurable-http-proxy
AXE := node_modules/axe-core/axe.min.js

.PHONY: install demo hub serve test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ecc needs Python 3.11+"'
	@# Debian's Chromium drives the browser tests and PDF reports (Playwright cannot download one)
	@# HAProxy spreads viewers over dashboards replicas (ECC_DASHBOARDS_REPLICAS)
	@if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/haproxy ]; } && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils fonts-dejavu-core haproxy; fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# JupyterHub's proxy, and axe-core for the accessibility tests, from npm into the
# project's node_modules/ (Node.js from Debian); one install, which keeps both
$(CHP) $(AXE) &:
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; fi
	npm install --prefix $(CURDIR) --no-save --no-package-lock --no-audit --no-fund --loglevel=error configurable-http-proxy@5 axe-core@4

install: $(STAMP) $(CHP) $(AXE)

PORT ?= 8866
MAIL_PORT ?= 8025
# What the demo stack mails, and to whom (the local sink keeps it in data/mail/)
DEMO_MAIL := ECC_HUB_SCHEDULER=1 ECC_MAIL_SINK_PORT=$(MAIL_PORT) \
	ECC_SMTP_URL=smtp://127.0.0.1:$(MAIL_PORT) ECC_ADMIN_EMAILS=admin@example.com \
	ECC_ALERT_EMAILS=vp@example.com:immediate,admin@example.com:daily \
	ECC_ORG_DOMAINS=example.com

# The whole stack: demo data, the cache and alerts, then JupyterHub + proxy with the
# dashboards, share links, the scheduler and a local mail sink; one demo user per role
demo: install
	$(BIN)/ecc demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	$(BIN)/ecc refresh
	$(BIN)/ecc metrics --preset this_quarter --format table
	exec env $(DEMO_MAIL) $(BIN)/ecc hub start

hub: demo

# The dashboards alone, without login (http://127.0.0.1:$(PORT)/); the demo data first
# when the database has none
serve: install
	$(BIN)/ecc demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --if-empty
	$(BIN)/ecc refresh
	exec $(BIN)/ecc serve --port $(PORT)

lint: install
	$(BIN)/ruff check ecc tests benchmarks

typecheck: install
	$(BIN)/mypy ecc

unit: install
	$(BIN)/pytest -q -n 2 --dist loadgroup --durations=15 tests

test: lint typecheck unit

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data node_modules .pytest_cache .mypy_cache .ruff_cache
