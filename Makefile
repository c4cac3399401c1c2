# Two commands for a newcomer: `make demo` (the main job, locally) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser demo serve lint test bench soak clean

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

# chromium + chromedriver for the report's browser test (tests/cli/test_report_browser.py):
# installed with apt when missing and we are root; never fails (the test then skips, saying why).
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
		|| echo "make browser: apt-get could not install chromium chromium-driver: the browser test will skip"; \
	else echo "make browser: no chromium/chromedriver and no root apt-get: the browser test will skip"; fi

test: setup browser
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
