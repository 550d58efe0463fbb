# Newsdesk. `make serve` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1

.PHONY: serve test lint bench schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/cms migrate
	$(BIN)/cms seed --demo --if-empty
	$(BIN)/cms token local
	$(BIN)/cms serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check cms schema tests
	$(BIN)/ruff format --check cms schema tests
	$(BIN)/mypy

schema: $(VENV)/.installed
	$(BIN)/cms schema > schema/schema.graphql

bench: $(VENV)/.installed-dev
	@echo "make bench: not yet (the benchmark suite comes with the performance issue)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
