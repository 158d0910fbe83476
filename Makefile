# The two commands of the README: `make serve` and `make test`. Everything else is for developers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint check-tests bench-catalog clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e ".[dev]"
	@touch $(STAMP)

## Start the service on the embedded profile (SQLite, in-process Redis, sandbox), with demo data.
serve: $(STAMP)
	scripts/system-deps.sh
	$(BIN)/zhangban migrate
	$(BIN)/zhangban seed
	$(BIN)/zhangban serve

## Run every check and test: lint, types, import boundaries, then the suite on both profiles
## (embedded, and real PostgreSQL + Redis that scripts/services.sh starts and stops).
test: $(STAMP) lint
	scripts/system-deps.sh
	scripts/run-tests.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench-catalog: $(STAMP)
	bash bench/catalog.sh

clean:
	rm -rf var .mypy_cache .ruff_cache .hypothesis
