# The two commands of the README: `make demo` (main job) and `make test` (whole suite, as CI runs it).
# Both install into ./.venv first, so a fresh clone needs nothing but python3 (>= 3.11) and make.

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo savings test lint bench bench-ingest bench-agent bench-autoscaling bench-console bench-rightsizing clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kubewise demo

savings: $(STAMP)
	$(VENV)/bin/kubewise savings --example

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples scripts
	$(VENV)/bin/ruff format --check src tests benchmarks examples scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

bench-ingest: $(STAMP)
	$(PY) -m benchmarks.ingest

bench-agent: $(STAMP)
	$(PY) -m benchmarks.agent

bench-autoscaling: $(STAMP)
	$(PY) -m benchmarks.autoscaling

bench-console: $(STAMP)
	$(PY) -m benchmarks.console

bench-rightsizing: $(STAMP)
	$(PY) -m benchmarks.rightsizing

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
