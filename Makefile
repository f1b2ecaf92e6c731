# Two commands for a newcomer: `make run` starts the line, `make test` runs the tests.
# Each creates the virtualenv in .venv and installs the pinned requirements first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

schema: $(VENV)/.runtime-installed
	$(BIN)/flask --app app upgrade-db

run: schema
	$(BIN)/flask --app app seed-demo
	@echo "The support line is answering on http://127.0.0.1:$(PORT) (Twilio webhooks under /ivr)."
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --access-logfile - 'app:create_app()'

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
