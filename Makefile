# dailypapers: `make demo` serves the bundled sample on http://127.0.0.1:8000; `make test` runs every test.
# Both build .venv/ from the pinned constraints first, on any machine with python3 >= 3.11.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLE := sample
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo demo-data test test-fast lint fmt docs lock system-deps system-check clean bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,export]'
	touch $(STAMP)

install: $(STAMP)

# axe-core for the browser tests' accessibility checks, installed from package-lock.json.
NODE_STAMP := node_modules/.package-lock.json

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "note: install Node.js and npm for the browser tests' accessibility checks (axe-core)"; fi

# Debian packages the browser, proxy and backup tests and the benchmarks drive. `make test` only
# checks for them (system-check); installing them is this separate step, which .ci/run calls.
SYSTEM_TOOLS := chromium wrk nginx openssl pg_restore psql
system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "system-deps: installing Debian's chromium, wrk, nginx, openssl and postgresql-client with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium wrk nginx openssl postgresql-client >/dev/null; \
	else echo "system-deps: install chromium, wrk, nginx, openssl and the PostgreSQL client tools with your system's package manager (this step needs root and apt-get)"; fi

system-check:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
		echo "make test: missing system tools:$$missing. The tests that need them skip here (and fail under CI=true)."; \
		echo "  Install them with 'make system-deps' (root, Debian) or your package manager; see README.md."; \
	fi

demo-data: install
	$(BIN)/dailypapers init
	$(BIN)/dailypapers import --quiet $(SAMPLE)/hf_daily_papers.sample.jsonl.gz
	$(BIN)/dailypapers import --quiet $(SAMPLE)/arxiv.sample.jsonl.gz
	$(BIN)/dailypapers vectors export
	$(BIN)/dailypapers vectors import $(SAMPLE)/vectors.f16.npy --ids $(SAMPLE)/vectors.ids.txt

# Links in feeds and emails name base_url: the address served, unless DAILYPAPERS_BASE_URL is set.
demo: demo-data
	DAILYPAPERS_BASE_URL="$${DAILYPAPERS_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/dailypapers serve --host $(HOST) --port $(PORT)

test: install system-check $(NODE_STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=90 --durations=15

test-fast: install
	$(BIN)/python -m pytest -m "not postgres and not browser and not slow" -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/codespell src tests docs README.md CHANGELOG.md

docs: install
	$(BIN)/python tools/gen_docs.py

fmt: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# Re-pin every dependency to what a fresh resolve picks today.
lock:
	rm -rf /tmp/dailypapers-lock && $(PYTHON) -m venv /tmp/dailypapers-lock
	/tmp/dailypapers-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/dailypapers-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

bench: install system-deps
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache test-artifacts
