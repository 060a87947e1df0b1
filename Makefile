# tissflow: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
UV := python3 -m uv
SERVERS := bash deploy/local/servers.sh
# Debian's Chromium prints the demonstrativos and drives the browser tests; pango renders the
# Capa do Lote; poppler reads PDFs in tests.
DEBIAN_PACKAGES := chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
	fonts-dejavu-core poppler-utils
# The test suite's own servers, isolated from `make run`'s.
# Override the ports and state dir to run a second suite beside the first one.
TEST_STATE_DIR ?= .local/test
TEST_KAFKA_PORT ?= 19092
TEST_KAFKA_CONTROLLER_PORT ?= 19093
TEST_MONGO_PORT ?= 27018
TEST_ENV := TISSFLOW_STATE_DIR=$(TEST_STATE_DIR) TISSFLOW_KAFKA_PORT=$(TEST_KAFKA_PORT) \
	TISSFLOW_KAFKA_CONTROLLER_PORT=$(TEST_KAFKA_CONTROLLER_PORT) TISSFLOW_MONGO_PORT=$(TEST_MONGO_PORT)
TEST_URLS := TISSFLOW_KAFKA_BOOTSTRAP=127.0.0.1:$(TEST_KAFKA_PORT) \
	TISSFLOW_MONGODB_URL=mongodb://127.0.0.1:$(TEST_MONGO_PORT)
# The fault suite starts and kills its own Kafka (FAULTS_PORT_BASE, +1) and FerretDB (+2),
# and its services at the default ports plus FAULTS_PORT_OFFSET (18500, 18601...).
FAULTS_STATE_DIR ?= .local/test-faults
FAULTS_PORT_BASE ?= 19300
FAULTS_PORT_OFFSET ?= 10500
FAULTS_ENV := TISSFLOW_FAULTS_STATE_DIR=$(FAULTS_STATE_DIR) \
	TISSFLOW_FAULTS_PORT_BASE=$(FAULTS_PORT_BASE) TISSFLOW_FAULTS_PORT_OFFSET=$(FAULTS_PORT_OFFSET)

.PHONY: install run stop reset test test-unit test-faults test-security test-load test-load-max bench \
	lint format asyncapi image

install: ## Python deps (uv), Kafka jars and FerretDB; cached after the first time
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@$(SERVERS) install
	@bash deploy/k8s/tools/tools.sh install
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "==> pacotes do Debian: $$missing"; \
			apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "aviso: instale com apt-get: $$missing (navegador dos testes, PDF)"; \
		fi; \
	fi

run: install ## start everything and the demo; Ctrl-C stops
	@$(UV) run --frozen python deploy/local/run.py

stop: ## stop what `make run` started
	@$(UV) run --frozen python deploy/local/run.py stop

reset: ## stop and delete local data (keeps installed software)
	@$(UV) run --frozen python deploy/local/run.py stop
	@$(SERVERS) reset

test: install ## the whole suite: lint, unit, integration and e2e on real Kafka and FerretDB
	@$(UV) run --frozen ruff check --quiet .
	@$(UV) run --frozen ruff format --check --quiet .
	@$(TEST_ENV) $(SERVERS) reset >/dev/null
	@$(TEST_ENV) $(SERVERS) start
	@set -o pipefail; trap '$(TEST_ENV) $(SERVERS) stop >/dev/null' EXIT; \
	$(TEST_URLS) $(FAULTS_ENV) \
	$(UV) run --frozen pytest -q -ra $(PYTEST_ARGS)

test-faults: install ## faults, full form: kill -9 of every service, Kafka and FerretDB down, poison
	@$(FAULTS_ENV) TISSFLOW_FAULTS_FULL=1 $(UV) run --frozen pytest -q -ra -s -m faults tests/faults $(PYTEST_ARGS)

test-security: install ## security, full form: isolation from the OpenAPI document, 400+ hostile inputs
	@$(TEST_ENV) $(SERVERS) reset >/dev/null
	@$(TEST_ENV) $(SERVERS) start
	@set -o pipefail; trap '$(TEST_ENV) $(SERVERS) stop >/dev/null' EXIT; \
	$(TEST_URLS) TISSFLOW_SECURITY_FULL=1 \
	$(UV) run --frozen pytest -q -ra -m security tests/security $(PYTEST_ARGS)

# Spread over the machine's cores (pytest-xdist): the PDF and manifest tests are CPU work.
UNIT_WORKERS ?= auto
test-unit: ## only the tests that need no server (well under a minute)
	@$(UV) run --frozen pytest -q -n $(UNIT_WORKERS) -m "not integration and not e2e and not browser and not security and not faults" $(PYTEST_ARGS)

bench: install ## benchmarks: tables with medians and ratios against a same-run baseline
	@$(TEST_ENV) $(SERVERS) reset >/dev/null
	@$(TEST_ENV) $(SERVERS) start
	@trap '$(TEST_ENV) $(SERVERS) stop >/dev/null' EXIT; \
	$(TEST_URLS) TISSFLOW_STATE_DIR=$(TEST_STATE_DIR) \
	$(UV) run --frozen python -m bench $(BENCH_ARGS)

# Open loop at the issue's rate: 40 files/s (Poisson arrivals) over 50 clinics for a minute,
# one in 20 a ~1 MB lote, two clerks browsing: the latency under load (p50/p95/p99).
LOAD_ARGS ?= --rate 40 --clinics 50 --duration 60 --files 60 --large-every 20 --browsers 2
test-load: install ## load: 40 files/s from 50 clinics for a minute while clerks browse; prints the table
	@$(TEST_ENV) $(SERVERS) reset >/dev/null
	@$(TEST_ENV) $(SERVERS) start
	@trap '$(TEST_ENV) $(SERVERS) stop >/dev/null' EXIT; \
	$(TEST_URLS) \
	$(UV) run --frozen python -m bench load $(LOAD_ARGS)

# Closed loop: every clinic uploads back to back, no think time: the saturation throughput
# (max files/s); its latency is the queue it builds, not the system's.
SATURATION_ARGS ?= --clinics 50 --duration 30 --files 60 --large-every 0 --browsers 2
test-load-max: install ## saturation: 50 clinics upload back to back; prints max files/s
	@$(TEST_ENV) $(SERVERS) reset >/dev/null
	@$(TEST_ENV) $(SERVERS) start
	@trap '$(TEST_ENV) $(SERVERS) stop >/dev/null' EXIT; \
	$(TEST_URLS) \
	$(UV) run --frozen python -m bench load $(SATURATION_ARGS)

lint:
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy

format:
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .

asyncapi: ## regenerate contracts/asyncapi.yaml from the models
	@$(UV) run --frozen python -m tissflow_contracts.asyncapi

IMAGE ?= ghcr.io/tissflow/tissflow:dev
image: ## build the one image every service runs (docker or podman)
	@engine=$$(command -v docker || command -v podman) || { \
		echo "make image: no docker or podman here; the recipe is checked by tests/deploy"; exit 1; }; \
	$$engine build -t $(IMAGE) .
