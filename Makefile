# buddyscope: the two commands a new user needs are `make run` and `make test`.
#
#   make run     create .venv if missing, install the project, serve http://127.0.0.1:8000
#   make test    install the test extras (and Debian's chromium if root), run every check
#
# Installs are skipped while .venv is newer than pyproject.toml (stamp files in .venv).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run NO_OPEN=1` does not open a browser.
NO_OPEN ?=
# `make run COMPILED=1` serves with the model's mypyc build (`make compiled`, below).
COMPILED ?=

JS_TESTS := $(wildcard tests/js/*.test.mjs)

.PHONY: help run test lint typecheck pytest pytest-compiled jstest chromium node clean distclean compiled

help:
	@echo "make run    start the dashboard on http://$(HOST):$(PORT)/ (creates .venv)"
	@echo "make test   run ruff, mypy, hadolint, pytest (incl. the browser) and node --test"
	@echo "make compiled  build the model with mypyc into build/compiled (optional; make run COMPILED=1)"
	@echo "make clean  remove caches and build/compiled; make distclean also removes .venv"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "buddyscope needs Python 3.11 or newer; this is " + sys.version.split()[0] + " (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	.venv/bin/python -m pip install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	.venv/bin/python -m pip install -e '.[test]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run $(if $(COMPILED),compiled)
	$(if $(COMPILED),PYTHONPATH=$(COMPILED_DIR)) $(VENV)/bin/buddyscope serve --host $(HOST) --port $(PORT) $(if $(NO_OPEN),--no-open)

test: $(VENV)/.installed-test chromium node lint typecheck jstest pytest pytest-compiled
	@echo "make test: all checks passed"

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/hadolint --failure-threshold warning Dockerfile

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

jstest: node
	node --test $(JS_TESTS)

pytest: $(VENV)/.installed-test chromium
	$(VENV)/bin/python -m pytest -p no:cacheprovider

# `make compiled`: an optional mypyc build of the model, out of tree.  build/compiled/ gets a
# copy of allocator_model whose hot modules are C extensions; the source tree stays pure
# Python and is what `import allocator_model` gives.  To run anything on the build, put it
# first on the path (PYTHONSAFEPATH keeps the current directory's source tree off it):
#   PYTHONSAFEPATH=1 PYTHONPATH=build/compiled .venv/bin/python bench/plain_buddy.py
# MYPYC_MODULES are where the model spends its time (docs/performance.md, "Model");
# errors, config, watermarks, events and the strategies stay interpreted (docs/model.md).
COMPILED_DIR := build/compiled
MYPYC_MODULES := node zone freelist perpage pcp host
COMPILED_ENV := ALLOCATOR_MODEL_COMPILED="$(MYPYC_MODULES)" PYTHONSAFEPATH=1 PYTHONPATH=$(COMPILED_DIR)

compiled: $(COMPILED_DIR)/.built

$(COMPILED_DIR)/.built: $(shell find allocator_model -type f -not -path '*/__pycache__/*') | $(VENV)/.installed-test
	rm -rf $(COMPILED_DIR) && mkdir -p $(COMPILED_DIR)
	cp -r allocator_model $(COMPILED_DIR)/
	find $(COMPILED_DIR) -name __pycache__ -prune -exec rm -rf {} +
	cd $(COMPILED_DIR) && $(abspath $(VENV))/bin/mypyc $(MYPYC_MODULES:%=allocator_model/kernel/%.py) \
	  >mypyc.log || { tail -40 $(COMPILED_DIR)/mypyc.log >&2; exit 1; }
	@touch $@

# The tests that use the model without a browser, again on the compiled build;
# tests/model/test_compiled_build.py checks that MYPYC_MODULES really are the compiled ones.
pytest-compiled: compiled
	$(COMPILED_ENV) $(VENV)/bin/python -m pytest -p no:cacheprovider -m 'not browser' \
	  --ignore-glob='tests/web/test_browser_*' tests/model tests/web

# The browser tests drive Debian's chromium (never `playwright install`).  CHROMIUM_PATH
# overrides where it is; as root a missing chromium is installed with apt-get.
chromium:
	@if [ -n "$$CHROMIUM_PATH" ]; then \
	  [ -x "$$CHROMIUM_PATH" ] || { echo "CHROMIUM_PATH=$$CHROMIUM_PATH is not an executable file" >&2; exit 1; }; \
	elif command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "chromium is missing: installing Debian's chromium package for the browser tests"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
	  echo "The browser tests need Chromium and it was not found." >&2; \
	  echo "Install it (Debian/Ubuntu: sudo apt-get install chromium), or point CHROMIUM_PATH" >&2; \
	  echo "at a Chromium or Chrome binary, then run make test again." >&2; \
	  exit 1; \
	fi

node:
	@command -v node >/dev/null 2>&1 || { \
	  echo "The JavaScript tests need Node.js 18 or newer (Debian: sudo apt-get install nodejs)." >&2; \
	  exit 1; }

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis $(COMPILED_DIR)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info

.PHONY: screenshot walkthrough
screenshot: $(VENV)/.installed-test chromium
	$(VENV)/bin/python docs/screenshot.py --out docs/screenshot.png

# docs/walkthrough.md and docs/walkthrough/: every lesson, chapter by chapter, at 1280x720
walkthrough: $(VENV)/.installed-test chromium
	$(VENV)/bin/python docs/walkthrough.py
