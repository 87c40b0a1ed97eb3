# The two commands of the README:
#   make review   run the review of the shipped (synthetic) sample; writes output/cang_long_2018_2025/
#   make test     run the test suite (slow simulations excluded)
# Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PARAMS ?= params/cang_long_2018_2025.yaml

.PHONY: review test bench lab sample validate clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (evaluation)" >/dev/null
	touch $(STAMP)

review: $(STAMP)
	$(PY) -m evaluation run --params $(PARAMS)

test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)
	$(PY) benchmarks/run_all.py

sample: $(STAMP)
	$(PY) -m evaluation sample --out data/sample

validate: $(STAMP)
	$(PY) -m evaluation validate --params $(PARAMS)

# (as root, e.g. in a container, Jupyter needs --allow-root)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) output data/sample
