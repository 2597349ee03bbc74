# Every target creates .venv when needed; `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	@$(BIN)/python scripts/demo.py

test: $(VENV)/.installed-test
	KERAS_BACKEND=torch $(BIN)/python -m pytest -n 2

bench: $(VENV)/.installed-test
	KERAS_BACKEND=torch $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
