# dailypapers: `make demo` serves the bundled sample on http://127.0.0.1:8000; `make test` runs every test.
# Both build .venv/ from the pinned constraints first, on any machine with python3 >= 3.11.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLE := sample
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo demo-data test test-fast lint fmt docs lock system-deps clean bench

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

# Debian packages the browser tests and benchmarks drive: Chromium (Playwright) and wrk.
system-deps:
	@if command -v chromium >/dev/null && command -v wrk >/dev/null && command -v nginx >/dev/null && command -v openssl >/dev/null && command -v pg_restore >/dev/null && command -v psql >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium wrk nginx openssl postgresql-client >/dev/null; \
	else echo "note: install Debian's chromium, wrk, nginx, openssl and postgresql-client for the browser, proxy, backup tests and benchmarks"; fi

demo-data: install
	$(BIN)/dailypapers init
	$(BIN)/dailypapers import --quiet $(SAMPLE)/hf_daily_papers.sample.jsonl.gz
	$(BIN)/dailypapers import --quiet $(SAMPLE)/arxiv.sample.jsonl.gz
	$(BIN)/dailypapers vectors export
	$(BIN)/dailypapers vectors import $(SAMPLE)/vectors.f16.npy --ids $(SAMPLE)/vectors.ids.txt

# Links in feeds and emails name base_url: the address served, unless DAILYPAPERS_BASE_URL is set.
demo: demo-data
	DAILYPAPERS_BASE_URL="$${DAILYPAPERS_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/dailypapers serve --host $(HOST) --port $(PORT)

test: install system-deps $(NODE_STAMP)
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
