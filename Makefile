# Two commands on a fresh machine: `make up` runs the whole pipeline, `make test` passes the tests.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)

.PHONY: install up lint test suite unit corpus deploy-check prometheus-rule lock images screenshots clean bench bench-import chaos

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
## tests/setup/prepare.sh comes first (it installs what `install` itself needs): it installs and starts
## what is missing, or stops at once saying the one command that does. Then lint, then pytest.
test:
	tests/setup/prepare.sh $(MAKE) --no-print-directory lint suite

## ruff (pyflakes, pycodestyle, bugbear, pyupgrade) and mypy, as configured in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## The tests of `make test`, on a machine already prepared.
suite: install
	$(PY) -m pytest

## Only the tests that need no server.
unit: install
	$(PY) -m pytest tests/unit tests/contracts

## The deploy/ checks, offline: render and strictly validate the Kubernetes overlays (with the monitoring
## component too), the RabbitMQ definitions against the topology, the lock file, compose; lint the Dockerfile.
deploy-check: install
	$(PY) -m pytest tests/deploy

## deploy/k8s/components/monitoring/prometheusrule.yaml from deploy/prometheus/alerts.yaml (after changing the alerts).
prometheus-rule: install
	$(PY) deploy/prometheus/prometheusrule.py

## deploy/requirements.lock: every dependency of the images' extras (and the wheel's build backend) pinned,
## with the hashes of its files, for Linux and Python 3.11 as in deploy/Dockerfile. After a change to the
## dependencies in pyproject.toml, or to take newer releases: make lock (LOCK_ARGS=--upgrade for all of them).
LOCK_EXTRAS := fetcher parser itemwriter notifier admin api
lock: install
	$(PY) -m pip install -q 'uv>=0.4'
	$(VENV)/bin/uv pip compile pyproject.toml deploy/build-requirements.in $(addprefix --extra ,$(LOCK_EXTRAS)) \
	  --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  --custom-compile-command "make lock" $(LOCK_ARGS) -o deploy/requirements.lock

## Every image target of deploy/Dockerfile, as postroom-<target>:<version> (needs a Docker engine).
images:
	for target in fetcher parser itemwriter notifier api cli; do \
	  docker build -f deploy/Dockerfile --target $$target -t postroom-$$target:$(VERSION) . || exit 1; \
	done

## docs/screenshots: the console's main pages at a desk's and a phone's width, photographed by the
## browser tests of tests/console/test_console_layout.py (the README shows some of them).
screenshots: install
	POSTROOM_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/console/test_console_layout.py -k "postgres and fits"

clean:
	rm -rf var $(VENV)

## Pass rate per corpus source (../shared/corpus), and each failure explained or not.
corpus: install
	$(PY) -m tests.corpus_report

## Throughput, latency, memory and correctness of the whole pipeline (BENCH_ARGS="--mails 5000"), then the API (API_BENCH_ARGS="--items 100000"), then the parser's time and memory on mail shaped to cost it (PARSER_BOUNDS_ARGS="--parts 100000").
bench: install
	$(PY) -m tests.bench.run $(BENCH_ARGS)
	$(PY) -m tests.bench.api $(API_BENCH_ARGS)
	$(PY) -m tests.bench.parser_bounds $(PARSER_BOUNDS_ARGS)

## First import of a 20,000-mail Dovecot mailbox: fetcher rate and RSS over time (IMPORT_ARGS="--pipeline").
bench-import: install
	$(PY) -m tests.bench.large_import $(IMPORT_ARGS)

## The bench workload in Dovecot under faults: SIGKILLed services, a broker and a database restart, a cut IMAP session (CHAOS_ARGS="--mails 500").
chaos: install
	$(PY) -m tests.bench.chaos $(CHAOS_ARGS)
