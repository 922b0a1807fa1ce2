# The two commands a newcomer needs (README):
#   make report   run the main job on the bundled sample data
#   make test     run every test
# Both build .venv with pip from pyproject.toml when it is missing or out of date.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REPORT_DIR ?= reports
PYTEST_ARGS ?=
# pytest-xdist worker processes for `make test` (CI has 2 cores); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

.PHONY: report test venv sysdeps notebooks lint clean sample templates bench dashboard lab screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Debian packages the tests need (CJK fonts, Chromium, PostgreSQL, LibreOffice Calc, poppler): installed when root, else the tests that need them skip (never under CI=true).
sysdeps:
	@bash scripts/install-system-deps.sh

report: venv
	$(PY) -m fpanalysis report --out $(REPORT_DIR)

# The package is compiled first: with PYTHONDONTWRITEBYTECODE set (as on CI), every command and
# notebook kernel the tests start would otherwise compile it again.
test: venv sysdeps lint
	$(PY) -m compileall -q fpanalysis > /dev/null
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Re-execute the committed notebooks in place (defaults, cwd notebooks/) after an intended change;
# nbval in `make test` then compares against these outputs.
notebooks: venv
	$(PY) -m fpanalysis.report refresh

# The three notebooks as Voilà dashboards on 127.0.0.1 (Ctrl-C stops the server).
DASHBOARD_PORT ?= 8866
dashboard: venv
	$(PY) -m fpanalysis.report.dashboard --port $(DASHBOARD_PORT)

# JupyterLab on 127.0.0.1 in Chinese, autosave off (opening a notebook never rewrites it).
LAB_PORT ?= 8888
lab: venv
	$(PY) -m fpanalysis.report.lab --port $(LAB_PORT)

# docs/img/*.png: the front page, each report's first screen and each dashboard (Chromium).
screenshots: venv
	$(PY) scripts/screenshots.py

# ruff lint (line length 100 enforced) and ruff format, checked: part of `make test`, so CI fails on them.
lint: venv
	$(PY) -m ruff check fpanalysis tests benchmarks
	$(PY) -m ruff format --check fpanalysis tests benchmarks

# Every benchmark in one run (budget vs Dask/DuckDB/naive/bandwidth floor, re-projection, compliance, relief,
# the Dask budget on 100M certificates out of core, make report, and the commands run as a user runs them on
# 1M/2M/10M-people datasets kept in benchmarks/data, with Dask on 20M): 51 minutes, 85 on a day this host ran twice as slow, once the datasets
# exist; prints a table, writes benchmarks/results/bench_all.json. BENCH_ARGS=--quick for tiny sizes;
# BENCH_ARGS="--only commands --command-sizes 1M" for the commands on one size.
BENCH_ARGS ?=
bench: venv
	$(PY) benchmarks/bench_all.py $(BENCH_ARGS)

sample: venv
	$(PY) -m fpanalysis synth --seed 20241 --out data/sample --format csv
	$(PY) -m fpanalysis synth --seed 20241 --out data/sample_workbook.xlsx --format xlsx --lang zh

templates: venv
	$(PY) -m fpanalysis templates --out data/templates

clean:
	rm -rf $(VENV) $(REPORT_DIR) .pytest_cache .hypothesis
