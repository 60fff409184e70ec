# One venv per checkout; `make test` on a fresh machine installs everything it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install install-run services test lint unit faults bench run clean

# Two installs in the one venv: `make run` needs only the runtime (the
# `stream` extra, ~200 MB); tests, lint and benchmarks add the dev tools and
# chdb (the current ClickHouse engine with pandas and pyarrow, ~750 MB).
$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

RUN_STAMP := $(VENV)/.installed-run
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[stream]'
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[stream,dev,chdb]'
	touch $(STAMP) $(RUN_STAMP)

install: $(STAMP)

install-run: $(RUN_STAMP)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[stream,dev,chdb,bench]'
	touch $(BENCH_STAMP)

# Debian packages behind the real local services (ClickHouse, promtool, Alertmanager).
services:
	bash deploy/install-services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

unit: install
	$(PY) -m pytest -q tests/unit

test: install services lint
	$(PY) -m pytest -q

# the long fault runs (kills, a minute without ClickHouse, thousands of fuzzed
# messages), FAULT_RUNS times in a row; every run goes into
# bench/results/faults-latest.md (a failed comparison with its per-dossier
# diff). Fails if any run failed, after all of them.
FAULT_RUNS ?= 10
faults: install services
	rm -f bench/results/faults-runs.jsonl
	status=0; for run in $$(seq 1 $(FAULT_RUNS)); do \
	  MOTCUA_FAULTS=full MOTCUA_FAULTS_RUN=$$run $(PY) -m pytest -q tests/faults || status=1; \
	done; exit $$status

# the DESIGN.md targets (bench/README.md): throughput, freshness, alerts, backfill,
# memory, boards; each writes bench/results/<name>-latest.{md,json}.
# `make bench BENCH="freshness boards"` runs only those.
bench: $(BENCH_STAMP) services
	$(PY) bench/run_all.py $(BENCH)

run: install-run services
	$(VENV)/bin/motcua run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .data
