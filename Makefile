# One venv per checkout; `make test` on a fresh machine installs everything it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint unit run clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,stream]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

unit: install
	$(PY) -m pytest -q tests/unit

test: install lint
	$(PY) -m pytest -q

run: install
	$(VENV)/bin/motcua run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .data
