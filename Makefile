# syncer: `make demo` and `make test` each build .venv from scratch when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck layers unit schemas bench clean ldap-tools

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
# Debian's slapd, ldap-utils and openssl when missing (quietly; as root, or with sudo).
# slapd lives in /usr/sbin, often not on a user's PATH.
ldap-tools:
	@if { ! command -v slapd && ! test -x /usr/sbin/slapd; } >/dev/null 2>&1 \
		|| ! command -v ldapadd >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then \
		echo "installing slapd, ldap-utils and openssl for the LDAP tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends slapd ldap-utils openssl >/dev/null; \
	fi

unit: $(STAMP) ldap-tools
	$(BIN)/python -m pytest -p no:cacheprovider

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
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
