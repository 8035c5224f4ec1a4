# Vaxel: two commands on a fresh Debian machine.
#   make run   - start the server on the built-in demo configuration (SQLite under ./var/)
#   make test  - install everything the tests need, type-check (mypy) and run the whole suite

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Debian packages of the real peers the interop tests talk to (PostgreSQL: the
# storage tests start a throwaway server of their own).
# openssh-client and sshpass: the real client of the SSH console tests; chromium: the browser.
PEER_PACKAGES := sip-tester baresip-core linphone-cli espeak-ng sox postgresql chromium openssh-client sshpass
# The C compiler and Python headers for media/_rtpstats_core.c (optional: without them the
# install goes on with the pure Python statistics; CI requires the compiled module).
BUILD_PACKAGES := gcc libc6-dev python3-dev
# Everything the editable install builds from: a change re-runs pip.
BUILD_INPUTS := pyproject.toml setup.py media/_rtpstats_core.c
# pip's and the build backend's chatter goes here; it is shown only when the install fails.
PIP_LOG := $(VENV)/pip.log
# $(call pip,ARGS): run pip quietly into PIP_LOG; on failure show the log and stop.
define pip
$(PY) -m pip install --quiet --disable-pip-version-check $(1) >>$(PIP_LOG) 2>&1 || \
  { cat $(PIP_LOG); echo "pip install failed (log: $(PIP_LOG))"; exit 1; }
endef

.PHONY: run test lint peers toolchain bench clean

$(STAMP): $(BUILD_INPUTS)
	@echo "installing Vaxel into $(VENV) (pip output: $(PIP_LOG))"
	@$(PYTHON) -m venv $(VENV)
	@: >$(PIP_LOG)
	@$(call pip,--upgrade pip)
	@$(call pip,-e .)
	@touch $@

$(TEST_STAMP): $(BUILD_INPUTS) | toolchain
	@echo "installing Vaxel with the test tools into $(VENV) (pip output: $(PIP_LOG))"
	@$(PYTHON) -m venv $(VENV)
	@: >$(PIP_LOG)
	@$(call pip,--upgrade pip)
	@$(call pip,-e ".[test]")
	@touch $(STAMP) $@

run: $(STAMP)
	@$(VENV)/bin/vaxel serve

# $(call apt_install,what,packages,what happens without them): install as root, else say how.
define apt_install
if [ "$$(id -u)" = "0" ]; then \
  echo "installing $(1): $(2)"; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
else \
  echo "missing $(1) -- run: sudo apt-get install -y $(2)"; \
  echo "($(3))"; \
fi
endef

peers:
	@missing=""; \
	command -v sipp >/dev/null || missing="$$missing sip-tester"; \
	command -v baresip >/dev/null || missing="$$missing baresip-core"; \
	command -v linphonec >/dev/null || missing="$$missing linphone-cli"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v sox >/dev/null || missing="$$missing sox"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || missing="$$missing openssh-client"; \
	command -v sshpass >/dev/null || missing="$$missing sshpass"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "test peers not found:$$missing"; \
	  $(call apt_install,test peers,$(PEER_PACKAGES),interop tests fail without them when CI=true); \
	fi

toolchain:
	@if ! command -v cc >/dev/null || ! $(PYTHON) -c 'import os, sysconfig, sys; \
	    sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then \
	  $(call apt_install,the C toolchain,$(BUILD_PACKAGES),Vaxel then uses its pure Python RTP statistics; CI requires the compiled ones); \
	fi

# The type check first: it takes seconds and fails before the suite does.
test: $(TEST_STAMP) peers
	$(VENV)/bin/mypy
	$(PY) -m pytest -q --durations=15

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Benchmarks run on demand, never in `make test` (numbers go to bench/RESULTS.md by hand).
bench: $(TEST_STAMP) peers
	@$(call pip,-e ".[test,bench]")
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache
