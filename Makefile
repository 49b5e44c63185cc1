# weizhili (微治理): everyday commands. `make` alone lists them.
#
# Every target that runs project code first makes the virtual environment (.venv), and re-installs into it only
# when requirements*.txt or pyproject.toml changed (a stamp file records the last install).

SHELL        := /bin/bash
PYTHON       ?= python3
VENV         := .venv
PY           := $(VENV)/bin/python
STAMP        := $(VENV)/.installed
PYTEST_ARGS  ?=
ROLE         ?= resident
SUB          ?= P000001
TTL          ?= 3600
comma        := ,

.DEFAULT_GOAL := help
.PHONY: help venv run test fuzz chaos bench migrate token openapi replay report replay-test lock clean distclean

help: ## list the targets
	@echo "usage: make <target> [VAR=value ...]"
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/' | \
		awk -F'\t' '{ printf "  %-10s %s\n", $$1, $$2 }'

venv: $(STAMP) ## make .venv and install the requirements and the project into it

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(STAMP)

run: venv ## run everything locally: migrations, 4 web servers and 4 workers (Ctrl-C stops them)
	$(PY) deploy/supervise.py

test: venv ## run the tests (PYTEST_ARGS="-k relay -x" passes arguments to pytest)
	$(PY) -m pytest $(PYTEST_ARGS)

CHAOS_EVENTS ?= 10000
RACE_ROUNDS  ?= 10

FUZZ_EXAMPLES ?= 200

fuzz: venv ## long fuzz run: schemathesis on every service, SQLite and PostgreSQL, FUZZ_EXAMPLES (200) per operation, coverage phase on
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_COVERAGE=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py $(PYTEST_ARGS)

chaos: venv ## chaos run: CHAOS_EVENTS (10000) events while broker, workers and database fail; then the races, RACE_ROUNDS rounds
	$(PY) bench/chaos.py --events $(CHAOS_EVENTS)
	RACE_ROUNDS=$(RACE_ROUNDS) $(PY) -m pytest -q tests/test_races.py

bench: venv ## benchmarks: pipeline, HTTP endpoints beside bare Flask, ledger reads at 1k/1M entries, memory (a table)
	$(PY) bench/run.py

migrate: venv ## apply every service's migrations to its database (SQLite files under var/ unless set)
	$(PY) deploy/supervise.py --migrate-only

token: venv ## print a local JWT: make token ROLE=resident[,grid_worker] SUB=P000001 [TTL=3600]
	@$(PY) -m shared.tokens --sub $(SUB) $(foreach r,$(subst $(comma), ,$(ROLE)),--role $(r)) --ttl $(TTL)

openapi: venv ## write each service's OpenAPI document
	$(PY) -m shared.openapi write

replay: venv ## load a scenario into the running system through its HTTP APIs: make replay DATA=<dir>
	@test -n "$(DATA)" || { echo "usage: make replay DATA=<scenario dir>, e.g. DATA=../shared/data/seed-scenario" >&2; exit 2; }
	$(PY) -m tools.replay $(DATA)

report: venv ## print the published figures (JSON, then a table) from the services' report endpoints
	@$(PY) -m tools.replay.report

replay-test: venv ## the whole seed scenario through make run's processes, twice, against its expected.json (slow)
	WEIZHILI_FULL_SEED=1 $(PY) -m pytest -s -p no:cacheprovider --timeout 0 tests/test_seed_replay.py $(PYTEST_ARGS)

lock: ## regenerate deploy/requirements.lock (hash-pinned, for the image) from requirements.txt
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --disable-pip-version-check pip-tools
	build/lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file deploy/requirements.lock requirements.txt
	rm -rf build/lock-venv

clean: ## remove caches and var/ (the local SQLite databases, metrics, the private broker's data)
	rm -rf var .pytest_cache build
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
