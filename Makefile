# Everyday verbs. `make run` and `make test` work on a fresh machine with Python 3.11+.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
export COMMONS_ENV ?= development

.PHONY: run test lint fmt db-check i18n install install-test clean bench bench-smoke wrk prod-local stack

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[test,postgres,redis]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Install, migrate, load the demo data (once) and serve on http://127.0.0.1:5000
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## Production locally: gunicorn over HTTPS (self-signed) on PostgreSQL + Redis, demo data loaded
## (tools/prod_local.sh stop|status; settings in the script)
prod-local: install-test
	bash tools/prod_local.sh start

## The deployed stack locally: nginx (deploy/nginx: TLS, static files, micro-cache) in front of
## prod-local's gunicorn, at https://127.0.0.1:9443 (tools/stack.sh stop|status; settings there)
stack: install-test
	bash tools/stack.sh start

## Install the test extras and run the whole suite (browser tests skip without Chromium)
test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/i18n.py --check
	$(BIN)/python tools/openapi.py --check
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Fails when the models and the migrations disagree
db-check: install
	COMMONS_INSTANCE_PATH=$$(mktemp -d) sh -c '$(BIN)/flask db upgrade && $(BIN)/flask db check'

## Re-extract strings, update both catalogues, compile
i18n: install-test
	$(BIN)/python tools/i18n.py

## wrk, the load generator, from Debian's packages when it is missing (as root, or with sudo)
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq wrk; \
	  else echo "wrk is missing: install it (apt-get install wrk)" >&2; exit 1; fi; }

## City-scale benchmark on local PostgreSQL + Redis: installs wrk if needed, seeds once, measures
bench: install-test wrk
	$(BIN)/python -m bench seed --scale small
	$(BIN)/python -m bench seed --scale city
	$(BIN)/python -m bench all --scale city --seconds 15
	$(BIN)/python -m bench growth --seconds 10

## A few seconds of everything, so the harness cannot rot (CI runs this)
bench-smoke: install-test wrk
	$(BIN)/python -m bench all --scale small --reseed --seconds 1 --burst 200
	$(BIN)/python -m bench profile --scale small --requests 2

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
