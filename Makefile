# Every target sets up what it needs: a fresh machine with Python 3.11+ and make is enough.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

NODE_DIR   := clients/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
# the machine's node/npm when 20 or newer, else Node.js from PyPI in .venv (tools/node_bin.py)
NODE_ENV    = PATH="$$($(abspath $(BIN))/python $(CURDIR)/tools/node_bin.py):$$PATH"

.PHONY: run test typecheck proto proto-check lint breaking proto-baseline messages bench bench-node clean browser \
	node node-proto node-proto-check node-test

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e clients/python -e '.[dev]'
	touch $(STAMP)

## run: start the gRPC service with its defaults (rules/ and an embedded SQLite database)
run: $(STAMP)
	$(BIN)/bekal serve

## test: check generated stubs and the protos (lint, breaking changes), types and lint, the rule files, then
## run the test suite and the Node client's tests against a real server
test: $(STAMP) browser proto-check node-proto-check lint breaking typecheck
	$(BIN)/bekal rules check rules
	$(BIN)/bekal rules test rules
	$(BIN)/python -m pytest
	$(MAKE) node-test

## browser: a headless Chromium for the report's browser test (Debian's package, installed when missing)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (Debian package) for the report's browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test needs Chromium for the report's browser test: sudo apt-get install chromium" >&2; exit 1; \
	  fi; }

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

## breaking: protos/ against the last released bekal.v1 (protos/v1.binpb): only compatible changes (docs/integrators.md)
breaking: $(STAMP)
	$(BIN)/buf breaking protos --against protos/v1.binpb

## proto-baseline: after a compatible change to protos/, make it the baseline `make breaking` checks against
proto-baseline: $(STAMP)
	$(BIN)/buf build protos -o protos/v1.binpb

$(NODE_STAMP): $(STAMP) $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && $(NODE_ENV) npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

## node: install and build the Node/TypeScript client (clients/node)
node: $(NODE_STAMP)
	cd $(NODE_DIR) && $(NODE_ENV) npm run build

## node-proto: regenerate clients/node/src/gen from protos/ (buf generate with ts-proto, buf.gen.yaml)
node-proto: $(NODE_STAMP)
	rm -rf $(NODE_DIR)/src/gen
	$(NODE_ENV) $(BIN)/buf generate

node-proto-check: $(NODE_STAMP)
	rm -rf build/node-gen && $(NODE_ENV) $(BIN)/buf generate -o build/node-gen
	diff -r build/node-gen/$(NODE_DIR)/src/gen $(NODE_DIR)/src/gen || (echo "stale clients/node/src/gen: run make node-proto" >&2; exit 1)

## node-test: the Node client's tests against a real `bekal serve` (node --test)
node-test: $(NODE_STAMP)
	cd $(NODE_DIR) && $(NODE_ENV) BEKAL_BIN=$(abspath $(BIN))/bekal npm test

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
	$(BIN)/python bench/replay_bench.py
	$(BIN)/python bench/monitoring_bench.py --enrolments 2000 --days 100
	$(MAKE) bench-node

## bench-node: the Node client's stream throughput next to the Python client's, in one run
bench-node: node
	$(BIN)/python bench/node_client_bench.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info $(NODE_DIR)/node_modules $(NODE_DIR)/dist
