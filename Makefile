# syncer: `make demo` and `make test` each build .venv from scratch when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck layers unit schemas bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	bash examples/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check syncer tests examples benchmarks
	$(BIN)/ruff format --check syncer tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider

test: lint typecheck layers unit

schemas: $(STAMP)   # regenerate the committed JSON Schemas after changing syncer/settings.py
	$(BIN)/syncer schema config > schemas/config.schema.json
	$(BIN)/syncer schema mapping > schemas/mapping.schema.json

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mapping.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
