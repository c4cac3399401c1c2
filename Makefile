# Two commands for a newcomer: `make demo` (the main job, locally) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo serve lint test bench soak clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/sgguard demo

# localcloud + the deployed functions, until Ctrl-C (docs/local.md)
serve: setup
	$(BIN)/sgguard serve

# ruff (lint + format) and mypy (strict on shared/): CI fails on them.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/sgguard bench

soak: setup
	$(BIN)/sgguard bench soak --messages 5000


clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
