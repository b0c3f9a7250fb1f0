# syncer: `make demo` and `make test` each build .venv from scratch when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck layers unit fast schemas bench clean ldap-tools

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

# The LDAP tests start a real OpenLDAP slapd (with a TLS certificate made by openssl): install
# Debian's slapd, ldap-utils and openssl when missing (quietly; as root, or with sudo), and
# faketime (libfaketime: the lease test runs a daemon whose clock is 10 minutes ahead).
# slapd lives in /usr/sbin, often not on a user's PATH.
ldap-tools:
	@if { ! command -v slapd && ! test -x /usr/sbin/slapd; } >/dev/null 2>&1 \
		|| ! command -v ldapadd >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1 \
		|| ! command -v faketime >/dev/null 2>&1; then \
		echo "installing slapd, ldap-utils, openssl and faketime for the tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends slapd ldap-utils openssl faketime >/dev/null; \
	fi

# Every test, with branch coverage of syncer/ (the CLI subprocesses of the end-to-end tests
# included) reported at the end; below the floor in pyproject.toml ([tool.coverage.report]
# fail_under) the run fails. Two pytest-xdist workers: the end-to-end tests mostly wait on
# subprocesses and timers, so two overlap well even on two cores (WORKERS=0 runs in one process).
# PYTEST_ARGS adds options: PYTEST_ARGS="-x tests/e2e".
WORKERS ?= 2
PYTEST_ARGS ?=
unit: $(STAMP) ldap-tools
	$(BIN)/python -m pytest -p no:cacheprovider -n $(WORKERS) --cov --cov-report=term $(PYTEST_ARGS)

# The tests not marked e2e or slow (markers: tests/conftest.py): seconds, not minutes.
fast: $(STAMP) ldap-tools
	$(BIN)/python -m pytest -p no:cacheprovider -m "not e2e and not slow" $(PYTEST_ARGS)

# Before a commit: lint, types, layers and the fast tests, in under a minute on a quiet machine.
check: lint typecheck layers fast

test: lint typecheck layers unit

schemas: $(STAMP)   # regenerate the committed JSON Schemas after changing syncer/settings/
	$(BIN)/syncer schema config > schemas/config.schema.json
	$(BIN)/syncer schema mapping > schemas/mapping.schema.json

# Figures, not tests: minutes on a shared box. USERS="1000 10000 100000" for the large run.
USERS ?= 1000 10000
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mapping.py
	$(BIN)/python -m benchmarks.bench_initial --users $(USERS)
	$(BIN)/python -m benchmarks.bench_incremental --users $(USERS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .coverage .coverage.*
