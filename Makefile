# Two commands for a newcomer: `make run` starts the line, `make test` runs the tests.
# Each creates the virtualenv in .venv and installs the pinned requirements first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The demo rotation hands over in New York: the caller, the texts and the pages then speak its zone.
SUPPORT_TIMEZONE ?= America/New_York
# `make run`'s own SMTP listener: send mail to any address at it and it lands on a ticket.
MAIL_SMTP_LISTEN ?= 127.0.0.1:2525
# The support address of the demo: the worker prints the mail it would send from it.
MAIL_FROM ?= support@localhost
# The browser tests inject axe-core (package.json) when npm is here to install it; without it
# they skip the accessibility checks, except under CI, where they fail.
NPM := $(shell command -v npm 2>/dev/null)

.PHONY: run test bench schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

schema: $(VENV)/.runtime-installed
	$(BIN)/flask --app app upgrade-db

run: schema
	SUPPORT_TIMEZONE=$(SUPPORT_TIMEZONE) $(BIN)/flask --app app seed-demo
	@echo
	@echo "The support line answers on http://127.0.0.1:$(PORT)/ (Twilio webhooks under /ivr, SMS at /sms)."
	@echo "Admin pages:   http://127.0.0.1:$(PORT)/admin   (the demo login is printed above)"
	@echo "Customers:     http://127.0.0.1:$(PORT)/support (sign in as lena@acme.example: the worker prints the link)"
	@echo "Place a call:  .venv/bin/flask --app app call      (or: --keys 1,1,1 --engineer accept)"
	@echo "Send a text:   .venv/bin/flask --app app text 'ONCALL' --from +14155550101"
	@echo "Send a mail:   .venv/bin/flask --app app send-mail --from lena@acme.example 'Our export fails'"
	@echo
	rm -rf instance/metrics && mkdir -p instance/metrics
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) BIND_ADDRESS=127.0.0.1 SUPPORT_TIMEZONE=$(SUPPORT_TIMEZONE) \
		MAIL_SMTP_LISTEN=$(MAIL_SMTP_LISTEN) MAIL_FROM=$(MAIL_FROM) PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)} \
		PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/instance/metrics $(BIN)/honcho start -f Procfile web worker mail

test: $(VENV)/.dev-installed $(if $(NPM),node_modules/.installed)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache node_modules
