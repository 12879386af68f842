# Every target sets up what it needs: a fresh machine with Python 3.11+ and make is enough.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test typecheck proto proto-check lint messages bench clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e clients/python -e '.[dev]'
	touch $(STAMP)

## run: start the gRPC service with its defaults (rules/ and an embedded SQLite database)
run: $(STAMP)
	$(BIN)/bekal serve

## test: check generated stubs and the protos, types and lint, check the rule files, then run the test suite
test: $(STAMP) proto-check lint typecheck
	$(BIN)/bekal rules check rules
	$(BIN)/bekal rules test rules
	$(BIN)/python -m pytest

## proto: regenerate clients/python/bekal/v1 (bekal.v1) from protos/
proto: $(STAMP)
	$(BIN)/python tools/protogen.py

## messages: add new messages of the code to the Indonesian catalogue (server/bekal/i18n/locale/id), keeping translations
messages: $(STAMP)
	$(BIN)/python tools/messages.py

proto-check: $(STAMP)
	$(BIN)/python tools/protogen.py --check

lint: $(STAMP)
	$(BIN)/buf lint

## typecheck: mypy (strict but for the modules listed in pyproject.toml) and ruff
typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/ruff check

bench: $(STAMP)
	$(BIN)/python bench/engine_bench.py
	$(BIN)/python bench/service_bench.py
	$(BIN)/python bench/matching_bench.py
	$(BIN)/python bench/placement_bench.py
	$(BIN)/python bench/zen_bench.py
	$(BIN)/python bench/audit_bench.py
	$(BIN)/python bench/monitoring_bench.py --enrolments 2000 --days 100

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
