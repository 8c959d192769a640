# mtlcore: `make reproduce` and `make test` are all a newcomer needs; both build .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= cpu
JOBS ?= auto
NB ?= notebooks/00_quickstart.py
export PYTHONHASHSEED := 0
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg

.PHONY: help install test reproduce notebook wu2020 paper-a report data-check clean clean-cache

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

install: $(STAMP)  ## create .venv with pinned torch, the locked dependencies and mtlcore (editable); runs once

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

test: install  ## unit tests + every notebook at its smallest parameters (nbval-lax)
	$(PY) -m jupytext --sync notebooks/*.py $(wildcard notebooks/*/*.py) >/dev/null
	$(PY) -m pytest -q tests --nbval-lax notebooks -p no:cacheprovider --durations=15 -n auto --dist loadscope --no-loadscope-reorder

reproduce: install  ## run every notebook at PROFILE (default cpu) into results/$(PROFILE)/; JOBS=auto: one per core (JOBS=1: one at a time)
	$(PY) -m mtlcore.reporting.pipeline --profile $(PROFILE) --jobs $(JOBS)

notebook: install  ## run one notebook: make notebook NB=notebooks/00_quickstart.py PROFILE=cpu
	$(PY) -m mtlcore.reporting.pipeline --profile $(PROFILE) --only $(NB)

wu2020: install  ## the Paper B (Wu, Zhang, Re 2020) notebooks at PROFILE
	$(PY) -m mtlcore.reporting.pipeline --profile $(PROFILE) --jobs $(JOBS) --only notebooks/wu2020/*.py notebooks/wu2020_text/*.py

paper-a: install  ## the Paper A (spine MRI) notebooks at PROFILE
	@if ls notebooks/paper_a/*.py >/dev/null 2>&1; then \
	  $(PY) -m mtlcore.reporting.pipeline --profile $(PROFILE) --jobs $(JOBS) --only notebooks/paper_a/*.py; \
	else echo "no Paper A notebooks yet: the report lists A-T1 .. A-F4 as 'not run'"; fi

report: install  ## rebuild results/$(PROFILE)/report.{md,html} from existing results
	$(PY) -m mtlcore.reporting.pipeline --profile $(PROFILE) --report-only

data-check:  ## verify the vendored data against data/MANIFEST.sha256
	cd data && sha256sum -c --quiet MANIFEST.sha256 && echo "data: all checksums match"

clean:  ## remove the virtual environment, run folders and generated results
	rm -rf $(VENV) runs results/smoke .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-cache:  ## forget cached training results and notebook stamps (the next run recomputes everything)
	rm -rf .cache results/*/.stamps
