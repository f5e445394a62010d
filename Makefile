# One-command set-up: each target creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

CLIENT_STAMP := clients/node_modules/.installed

.PHONY: run test bench clean browser clients

RUN_STAMP := $(VENV)/.installed-run

$(RUN_STAMP): pyproject.toml  ## what running needs, and no more
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/pip install -q -e .  # setuptools warns of editable installs, which this is on purpose
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml $(RUN_STAMP)  ## and what the tests need
	PYTHONWARNINGS=ignore $(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(RUN_STAMP)  ## install and start the gateway on the built-in default (SQLite, mock, keyed providers)
	$(BIN)/anygate serve --host $(HOST) --port $(PORT)

test: $(STAMP) browser $(CLIENT_STAMP)  ## install what the tests need and run them all (lint and types first)
	$(BIN)/ruff check anygate tests bench
	$(BIN)/ruff format --check anygate tests bench
	$(BIN)/mypy
	$(BIN)/mypy tests
	$(BIN)/pytest -q -n 2 --dist loadfile

browser:  ## Debian's chromium and chromedriver for the dashboard test, installed when missing and apt is at hand
	@command -v chromedriver >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1; } \
		|| echo "no chromium: the dashboard test will skip"

$(CLIENT_STAMP): clients/package.json clients/package-lock.json  ## the agent CLIs and the Vercel AI SDK, pinned (skipped with a note where npm is missing)
	@if ! command -v npm >/dev/null; then echo "no npm: the agent CLI tests will skip"; \
		else npm ci --prefix clients --no-audit --no-fund --loglevel=error && touch $@ \
		|| echo "npm ci failed: the agent CLI tests will skip"; fi

clients: $(STAMP) $(CLIENT_STAMP)  ## install the agent CLIs and SDKs and drive them against the gateway on every upstream family
	$(BIN)/pytest -q tests/integration/test_agent_clis.py tests/integration/test_agent_sdks.py tests/integration/test_agent_traffic.py

bench: $(STAMP)  ## the overhead benchmark: anygate against the bare aiohttp proxy, same run
	bash bench/run.sh

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache clients/node_modules
