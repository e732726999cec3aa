# bayesmeta — the two set-up commands of README.md:
#   make demo   create .venv, install, run the flagship analysis on a bundled dataset
#   make test   create .venv, install, run lint and the test suite (what CI runs)
# Python >= 3.12 is needed; `.python-version` (3.12) makes pyenv's python3 select it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
	  echo "bayesmeta needs Python >= 3.12, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install 3.12 (e.g. 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12"; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/bayesmeta fit binary msc_serious_ae --threshold 2

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --durations=15

bench: install
	$(BIN)/python benchmarks/bench_binary.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
