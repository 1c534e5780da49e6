# Two commands on a fresh machine: `make up` runs the whole pipeline, `make test` passes the tests.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: install up test unit corpus clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Run fetcher, parser, itemwriter and notifier with the demo account and a local SMTP sink.
up: install
	$(VENV)/bin/postroom up

## The whole test suite, against the real RabbitMQ and PostgreSQL (AMQP_URL / DATABASE_URL).
test: install
	$(PY) -m pytest

## Only the tests that need no server.
unit: install
	$(PY) -m pytest tests/unit tests/contracts

clean:
	rm -rf var $(VENV)

## Pass rate per corpus source (../shared/corpus), and each failure explained or not.
corpus: install
	$(PY) -m tests.corpus_report
