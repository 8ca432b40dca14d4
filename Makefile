# Set-up and main jobs for memsim. Both `make demo` and `make test` work on a fresh machine:
# they create .venv, install memsim with its dependencies, and install Debian's ngspice if missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
export MPLBACKEND ?= Agg

.PHONY: demo test lint unit ngspice venv clean bench docs wheel-check notebooks

$(STAMP): pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,docs]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP) ngspice

ngspice:
	@if ! ldconfig -p | grep -q 'libngspice.so.0' || [ ! -e /usr/lib/x86_64-linux-gnu/libngspice.so ]; then \
	  echo "installing Debian's ngspice (ngspice libngspice0 libngspice0-dev)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq ngspice libngspice0 libngspice0-dev >/dev/null; \
	fi

lint: venv
	$(BIN)/ruff check memsim tests benchmarks scripts docs setup.py
	$(BIN)/mypy

unit: venv
	NUMBA_DISABLE_JIT=1 $(BIN)/pytest -q -m "not slow and not spice and not distributed" -p no:cacheprovider tests/unit

# The whole suite runs last, so its summary is the last line of `make test`.
test: lint
	$(MAKE) unit
	$(MAKE) docs
	$(MAKE) wheel-check
	$(BIN)/pytest -q

# The documentation site, warnings as errors; notebooks are shown with their stored outputs
# (tests/test_notebooks.py executes them); -E: a fresh build, as conf.py rewrites the API pages.
# Open docs/_build/html/index.html.
docs: venv
	$(BIN)/sphinx-build -q -E -W --keep-going -b html docs docs/_build/html

# Re-execute the notebooks and store their outputs for the docs (SMALL=1: CI's settings).
notebooks: venv
	$(BIN)/python scripts/store_notebooks.py $(if $(SMALL),--small)

# The built wheel in a clean virtual environment outside the checkout (scripts/check_wheel.py).
wheel-check: venv
	$(BIN)/python scripts/check_wheel.py

# The demo capacity sweep on a local Dask cluster (one worker per CPU; a few minutes on 2 cores).
# Interrupted? Run it again: finished tasks are kept in results/demo.sqlite and skipped.
demo: venv
	$(BIN)/memsim sweep sweeps/demo.toml --store results/demo.sqlite
	$(BIN)/memsim report results/demo.sqlite --sweep sweeps/demo.toml --out results/demo_report
	@echo "demo figures: $(CURDIR)/results/demo_report/capacity_vs_size.png and success_curves.png"

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .numba_cache .pytest_cache .mypy_cache results dist docs/_build docs/api/generated
