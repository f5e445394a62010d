# One-command set-up: each target creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## install and start the gateway on the built-in default (SQLite, mock, keyed providers)
	$(BIN)/anygate serve --host $(HOST) --port $(PORT)

test: $(STAMP)  ## install what the tests need and run them all (lint and types first)
	$(BIN)/ruff check anygate tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)  ## the overhead benchmark: anygate against the bare aiohttp proxy, same run
	bash bench/run.sh

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
