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

# Oracles that cannot share the venv with Keras 3: Keras 1.2.2's and tf.keras 2.15's own source,
# read by the differential tests (tests/oracles/), never imported by shapesmith.
ORACLES := $(VENV)/oracles
KERAS1_SRC := $(ORACLES)/Keras-1.2.2
KERAS2_SRC := $(ORACLES)/keras-2.15.0

$(KERAS1_SRC)/keras/layers/convolutional.py: | $(BIN)/python
	mkdir -p $(ORACLES)
	$(BIN)/pip download -q --no-deps --no-binary :all: keras==1.2.2 -d $(ORACLES)
	tar -xzf $(ORACLES)/Keras-1.2.2.tar.gz -C $(ORACLES)
	touch $@

test: $(VENV)/.installed-test $(KERAS1_SRC)/keras/layers/convolutional.py
	SHAPESMITH_KERAS1_SRC=$(CURDIR)/$(KERAS1_SRC) KERAS_BACKEND=torch $(BIN)/python -m pytest -n 2

bench: $(VENV)/.installed-test
	KERAS_BACKEND=torch $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
