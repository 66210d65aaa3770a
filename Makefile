# kitrun: `make run` serves the app with SQLite and demo data; `make test` runs every test,
# `make test-fast` all but the slow (live-server load and race) and browser tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
# test processes (pytest-xdist): each has its own PostgreSQL database and SQLite files
TEST_PROCESSES ?= 2

.PHONY: install run test test-fast lint format extract-messages update-messages compile-messages clean bench

install: $(STAMP) $(NPM_STAMP) compile-messages

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kitrun needs Python 3.11 or newer")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $(NPM_STAMP); \
	else echo "npm not found: the camera scanner falls back to photo upload and typed codes"; fi

compile-messages: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy --statistics -d app/i18n -D messages

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -o app/i18n/messages.pot --no-location --sort-output .

update-messages: extract-messages
	$(BIN)/pybabel update -i app/i18n/messages.pot -d app/i18n -D messages --no-fuzzy-matching

run: install
	$(BIN)/kitrun migrate
	$(BIN)/kitrun demo
	$(BIN)/kitrun serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/inventory.py

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
