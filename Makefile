# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint system-deps clean

$(BIN)/aacli: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo,tray]'
	touch $@

demo: $(BIN)/aacli
	$(BIN)/aacli demo

system-deps:
	sh scripts/system-deps.sh

lint: $(BIN)/aacli
	$(BIN)/ruff check trayapp tests
	$(BIN)/ruff format --check trayapp tests
	$(BIN)/mypy

test: system-deps $(BIN)/aacli lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build dist *.egg-info test-artifacts
