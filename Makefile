# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint system-deps clean bench icons

# The venv with aacli, the sandbox and the test tools. PyGObject (the tray's menus on Linux)
# is built separately: the demo falls back to the terminal when it cannot be built.
$(BIN)/aacli: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	touch $@

$(VENV)/.tray: $(BIN)/aacli
	$(BIN)/python -m pip install --quiet -e '.[tray]'
	touch $@

demo: $(BIN)/aacli
	-@sh scripts/system-deps.sh --optional
	-@$(MAKE) --no-print-directory $(VENV)/.tray || echo "make demo: the tray's PyGObject could not be built; the demo runs in the terminal"
	$(BIN)/aacli demo

system-deps:
	sh scripts/system-deps.sh

lint: $(BIN)/aacli
	$(BIN)/ruff check trayapp tests
	$(BIN)/ruff format --check trayapp tests
	$(BIN)/mypy

test: system-deps $(BIN)/aacli $(VENV)/.tray lint
	$(BIN)/python -m pytest

icons: $(BIN)/aacli  ## regenerate assets/icons/ from the drawing code in trayapp/tray/icon.py
	$(BIN)/python assets/make_icons.py

# Benchmarks against peers and floors; rewrites docs/PERFORMANCE.md (~6 min; not a test).
bench: system-deps $(BIN)/aacli
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info test-artifacts
