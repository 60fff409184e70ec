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
# quixstreams (bench/quix_peer.py) pins pydantic<2.14, so it is no extra:
# installed without its dependencies, plus those it needs (bench/README.md)
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[stream,dev,chdb,bench]'
	$(PY) -m pip install -q --no-deps 'quixstreams==3.28.1'
	$(PY) -m pip install -q 'confluent-kafka[json,schemaregistry]>=2.8.2,<2.13' \
	  'rocksdict>=0.3,<0.4' 'jsonlines>=4,<5' 'jsonpath-ng>=1.7,<2'
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
# Each run keeps its services' data and the worker logs in $(FAULTS_TMP)/run-N.
FAULT_RUNS ?= 10
FAULTS_TMP ?= /tmp/motcua-faults
faults: install services
	rm -rf bench/results/faults-runs.jsonl $(FAULTS_TMP) && mkdir -p $(FAULTS_TMP)
	status=0; for run in $$(seq 1 $(FAULT_RUNS)); do \
	  MOTCUA_FAULTS=full MOTCUA_FAULTS_RUN=$$run $(PY) -m pytest -q tests/faults \
	    --basetemp=$(FAULTS_TMP)/run-$$run || status=1; \
	done; exit $$status

# the DESIGN.md targets (bench/README.md): throughput, freshness, alerts, backfill,
# memory, boards, peers; each writes bench/results/<name>-latest.{md,json}.
# `make bench BENCH="freshness boards"` runs only those.
bench: $(BENCH_STAMP) services
	$(PY) bench/run_all.py $(BENCH)

run: install-run services
	$(VENV)/bin/motcua run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .data
