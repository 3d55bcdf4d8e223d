# Every target builds .venv on first use, so a fresh clone needs only `make demo` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench dist soak clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ml-connector demo

# Workers for `make test`. The suite waits more than it computes (43 % CPU serial), so
# more workers than cores pays. --dist loadfile keeps a file's tests on one worker: a module
# fixture (the bench smoke run, test_dist's archives, the Acumatica OpenAPI document) is
# built once, not once per worker. Not loadgroup: with pytest 9.2 it silently stops
# grouping (pytest-dev/pytest-xdist#1386, open).
TEST_WORKERS ?= 4

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check connector tests $(wildcard bench)
	$(BIN)/mypy --strict connector

bench: $(STAMP)
	$(BIN)/ml-connector bench

soak: $(STAMP)
	ML_CONNECTOR_SOAK=1 $(BIN)/python -m pytest -q -m soak tests/reliability

# One zipapp per supported Python: the compiled wheels (msgspec, aiohttp, cryptography…)
# differ per CPython version, so pip fetches each version's own (deploy/build_pyz.py).
dist: $(STAMP)
	$(BIN)/python deploy/build_pyz.py --out dist 3.11 3.12 3.13

clean:
	rm -rf $(VENV) dist build *.egg-info
