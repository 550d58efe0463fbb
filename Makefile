# Newsdesk. `make serve` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
# Test processes (pytest-xdist): one per core; WORKERS=0 runs the suite in this process.
WORKERS ?= auto

.PHONY: serve test check lint fuzz-plans fuzz bench bench-portability bench-outbox profile schema token graphiql-assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/cms migrate
	$(BIN)/cms seed --demo --if-empty
	$(BIN)/cms token local
	$(BIN)/cms serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal

# What CI runs: the linters and type checker, then the whole suite under coverage with the
# floor set in pyproject.toml ([tool.coverage.report] fail_under).
check: lint
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal --cov --cov-report=term

# Compiled reads against graphql-core, byte for byte, on 50,000 generated documents per
# strategy (the suite runs 2,000); CMS_TEST_DATABASE_URL adds the PostgreSQL run.
fuzz-plans: $(VENV)/.installed-dev
	NEWSDESK_PLAN_EXAMPLES=50000 $(BIN)/python -m pytest -q tests/api/test_plans.py \
		-k "generated or frontend"

# Hostile operations and bytes against the app with production settings (tests/fuzz):
# 10,000 generated queries and mutations (hypothesis-graphql, anonymous and each role) and
# 10,000 hostile requests per backend (the suite runs 300); any 5xx, hang or unmasked server
# error fails it, shrunk to the smallest request. CMS_TEST_DATABASE_URL adds PostgreSQL;
# NEWSDESK_FUZZ_REPORT=file lists every distinct fault there instead of stopping at the first.
fuzz: $(VENV)/.installed-dev
	NEWSDESK_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q tests/fuzz

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check cms schema tests
	$(BIN)/ruff format --check cms schema tests
	$(BIN)/mypy

# `make token NAME=wire-service ROLE=author`: one more API token for the local database.
token: $(VENV)/.installed
	@test -n "$(NAME)" -a -n "$(ROLE)" || \
		{ echo "usage: make token NAME=<name> ROLE=<viewer|author|editor|admin>" >&2; exit 2; }
	$(BIN)/cms token create --name "$(NAME)" --role "$(ROLE)"

# GraphiQL's browser files from npm, served by `make serve` itself (offline, strict networks).
graphiql-assets: $(VENV)/.installed
	$(BIN)/cms graphiql-assets

schema: $(VENV)/.installed
	$(BIN)/cms schema > schema/schema.graphql

# Benchmark (bench/): `make bench ARGS="--items 1000000"` passes options to bench/run.py;
# `make bench DB=postgres` runs it on PostgreSQL (BENCH_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/bench_newsdesk, dropped and loaded anew each run).
# wrk comes from Debian; without it bench falls back to its own Python load generator.
bench: $(VENV)/.installed
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
		|| echo "make bench: wrk could not be installed; using bench/loadgen.py instead"
	$(BIN)/python -m bench.run $(if $(DB),--db $(DB)) $(ARGS)
	$(BIN)/python -m bench.outbox_lag $(OUTBOX_ARGS)

# Outbox lag under the desk's load (bench/outbox_lag.py): `cms serve` on PostgreSQL and
# Redis, ~200 mutations/s from 12 editors for 2 minutes, a subscriber and a webhook; how
# late they hear of each change, and how long a backlog takes to drain. Part of `make
# bench` (skipped, saying so, without PostgreSQL and Redis). OUTBOX_ARGS="--seconds 30";
# BENCH_OUTBOX_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_outbox,
# dropped and made again) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
bench-outbox: $(VENV)/.installed
	$(BIN)/python -m bench.outbox_lag $(OUTBOX_ARGS)

# Export and import rates and peak memory (bench/portability.py): `make bench-portability
# ARGS="--items 1000000"`; `DB=postgres` imports into BENCH_PORTABILITY_URL (default
# postgres://postgres@127.0.0.1:5432/bench_portability, dropped and made anew).
bench-portability: $(VENV)/.installed
	$(BIN)/python -m bench.portability $(if $(DB),--db $(DB)) $(ARGS)

# Where one read's CPU goes, layer by layer, in process: bench/PROFILE.md.
# `make profile ARGS="--query article"` (feed, deep, article or search).
profile: $(VENV)/.installed
	$(BIN)/python -m bench.profile $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
