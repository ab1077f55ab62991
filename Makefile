# Two entry points for a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
# Test data: $MTBENCH_DATA if set, else the shared folder beside this checkout.
MTBENCH_DATA ?= $(abspath $(wildcard ../shared/mtdata))
export MTBENCH_DATA

STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	touch $@

.PHONY: setup run test bench
setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/mtbench run

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -rs

bench: $(STAMP)
	$(VENV)/bin/python tests/benchmarks/bench_scoring.py
