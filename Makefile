# Every target creates .venv when needed; `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench fuzz clean oracles

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

$(KERAS2_SRC)/keras/src/utils/conv_utils.py: | $(BIN)/python
	mkdir -p $(ORACLES)
	$(BIN)/pip download -q --no-deps --only-binary=:all: keras==2.15.0 -d $(ORACLES)
	$(BIN)/python -m zipfile -e $(ORACLES)/keras-2.15.0-py3-none-any.whl $(KERAS2_SRC)
	touch $@

oracles: $(KERAS1_SRC)/keras/layers/convolutional.py $(KERAS2_SRC)/keras/src/utils/conv_utils.py

test: $(VENV)/.installed-test oracles
	bash scripts/browser_setup.sh
	SHAPESMITH_KERAS1_SRC=$(CURDIR)/$(KERAS1_SRC) SHAPESMITH_KERAS2_SRC=$(CURDIR)/$(KERAS2_SRC) \
		KERAS_BACKEND=torch $(BIN)/python -m pytest -n 2

fuzz: $(VENV)/.installed-test
	SHAPESMITH_FUZZ_EXAMPLES=20000 KERAS_BACKEND=torch $(BIN)/python -m pytest tests/test_fuzz.py tests/test_fuzz_files.py

bench: $(VENV)/.installed-test
	KERAS_BACKEND=torch $(BIN)/python benchmarks/run.py
	KERAS_BACKEND=torch $(BIN)/python benchmarks/solve.py
	KERAS_BACKEND=torch $(BIN)/python benchmarks/forward.py
	KERAS_BACKEND=torch $(BIN)/python benchmarks/summary.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
