# Vaxel: two commands on a fresh Debian machine.
#   make run   - start the server on the built-in demo configuration (SQLite under ./var/)
#   make test  - install everything the tests need and run the whole suite

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Debian packages of the real peers the interop tests talk to (PostgreSQL: the
# storage tests start a throwaway server of their own).
PEER_PACKAGES := sip-tester baresip-core espeak-ng sox postgresql

.PHONY: run test lint peers bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --config-settings editable_mode=compat -e .
	touch $@

$(TEST_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP) $@

run: $(STAMP)
	$(VENV)/bin/vaxel serve

peers:
	@missing=""; \
	command -v sipp >/dev/null || missing="$$missing sip-tester"; \
	command -v baresip >/dev/null || missing="$$missing baresip-core"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v sox >/dev/null || missing="$$missing sox"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing test peers:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PEER_PACKAGES) >/dev/null; \
	  else \
	    echo "missing test peers:$$missing -- run: sudo apt-get install -y $(PEER_PACKAGES)"; \
	    echo "(interop tests fail without them when CI=true)"; \
	  fi; \
	fi

test: $(TEST_STAMP) peers
	$(PY) -m pytest -q

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(TEST_STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache
