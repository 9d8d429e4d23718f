# Two-command quick start (README): `make reproduce` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV ?= .venv
CORES ?= all
# The study to run: config.yaml (the default study) or a file such as workflow/studies/validation.yaml.
CONFIG ?= config.yaml
SNAKEMAKE_ARGS ?=
# Two pytest workers (the CI machine has 2 cores).
PYTEST_ARGS ?=

# Snakemake's jobs find `deeplin` next to the Python that runs Snakemake (the Snakefile sees to it).
BIN := $(abspath $(VENV))/bin

.PHONY: reproduce test style format install install-test dry-run lint benchmark clean

# The study's config is checked first (a syntax error is named with file, line and column); its results and
# its report go to the folder it names, results/<study>/.
reproduce: install
	@results=$$($(BIN)/deeplin check-config --results-dir $(CONFIG)) && \
	echo "study $(CONFIG): results in $$results/, report $$results/report.html" && \
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --report $$results/report.html --report-after-run \
		$(SNAKEMAKE_ARGS)

# The tests start with the style check: a formatting or lint problem fails `make test` in seconds.
test: style
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# ruff (lint + format) for the Python code, snakefmt for the Snakefile and the rules files; `make format` fixes.
style: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile workflow/rules

dry-run: install
	$(BIN)/snakemake -n --configfile $(CONFIG) $(SNAKEMAKE_ARGS)

lint: style
	$(BIN)/snakemake --lint

benchmark: install
	$(BIN)/python tests/benchmarks/bench_theory.py

install: $(VENV)/.deeplin-run
install-test: $(VENV)/.deeplin-test

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "deeplin needs Python >= 3.11, found " + sys.version' \
		|| { echo "set PYTHON=python3.11 (or newer)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Keep an existing torch (e.g. a CUDA build); otherwise take the CPU wheel rather than a multi-GB CUDA one.
$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -c 'import torch' 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0
	touch $@

$(VENV)/.deeplin-run: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.deeplin-test: pyproject.toml $(VENV)/.deeplin-run
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf results .snakemake
