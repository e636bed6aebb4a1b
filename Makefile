# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OPA_BINDINGS := opa-golib-python-bindings==0.4.4

.PHONY: install services test check pytest rego-test lint types run demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --ignore-requires-python $(OPA_BINDINGS)
	touch $@

# PostgreSQL on 127.0.0.1:5432 with a `test` database, for the PostgreSQL-backed tests.
services:
	bash scripts/postgres.sh

test: install check rego-test lint types pytest

pytest: install
	$(BIN)/pytest -q

# Static checks of the policy set: compile, thresholds schemas, METADATA, unique codes,
# entrypoints (and `opa check --strict` / `opa fmt --fail` when an `opa` binary is on PATH).
check: install
	$(BIN)/mlgate check policies

rego-test: install
	$(BIN)/mlgate test policies

lint: install
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench

types: install
	$(BIN)/mypy

run: install
	$(BIN)/mlgate serve

demo: install
	$(BIN)/mlgate demo

bench: install
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/http.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
