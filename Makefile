# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint system-deps clean bench icons mutate js-deps

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

# The JavaScript SDK v3 (pinned in tests/js/package-lock.json) the credential-server tests run.
JS_DEPS := tests/js/node_modules/.package-lock.json
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

js-deps: $(JS_DEPS)

test: system-deps $(BIN)/aacli $(VENV)/.tray $(JS_DEPS) lint
	$(BIN)/python -m pytest

icons: $(BIN)/aacli  ## regenerate assets/icons/ from the drawing code in trayapp/tray/icon.py
	$(BIN)/python assets/make_icons.py

# Benchmarks against peers and floors; rewrites docs/PERFORMANCE.md (~8 min; not a test).
# aacli is timed as users get it: a wheel of this tree in build/bench-venv (bench/install.py).
bench: system-deps $(BIN)/aacli
	$(BIN)/python bench/install.py
	$(BIN)/python bench/run.py

# Mutation testing (mutmut) of the modules that guard data and secrets, against their fast
# tests only, in a scratch copy (build/mutate), one worker, capped at MUTATE_SECONDS; not part
# of `make test`. Prints the score per module; docs/TESTING.md keeps the last run's.
MUTATE_MODULES ?= trayapp/core/inifile.py trayapp/core/credfile.py trayapp/core/codes/guard.py \
	trayapp/core/secrets/vault.py trayapp/core/files.py trayapp/core/children.py
MUTATE_TESTS ?= tests/test_inifile.py tests/test_credfile.py tests/test_code_guard.py \
	tests/test_vault.py tests/test_files.py tests/test_children.py
MUTATE_SECONDS ?= 5400
MUTATE_DIR := build/mutate

mutate: $(BIN)/aacli
	rm -rf $(MUTATE_DIR) && mkdir -p $(MUTATE_DIR)
	tar -cf - --exclude=./.venv --exclude=./.git --exclude=./build --exclude=./mutants \
		--exclude=./test-artifacts --exclude=__pycache__ --exclude=./.hypothesis . \
		| tar -xf - -C $(MUTATE_DIR)
	{ printf '[mutmut]\nsource_paths = trayapp\nonly_mutate =\n'; printf '  %s\n' $(MUTATE_MODULES); \
	  printf 'pytest_add_cli_args_test_selection =\n'; printf '  %s\n' $(MUTATE_TESTS); \
	  printf 'pytest_add_cli_args =\n  -p\n  no:cacheprovider\n  -m\n  not slow\n'; \
	} > $(MUTATE_DIR)/setup.cfg
	cd $(MUTATE_DIR) && AACLI_PROPERTY_EXAMPLES=100 timeout $(MUTATE_SECONDS) \
		$(CURDIR)/$(BIN)/mutmut run --max-children 1 > mutmut.log 2>&1 \
		|| echo "make mutate: mutmut stopped (status $$?; see $(MUTATE_DIR)/mutmut.log)"
	$(BIN)/python tests/mutation_score.py $(MUTATE_DIR)

clean:
	rm -rf $(VENV) build dist *.egg-info test-artifacts
