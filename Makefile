# Alertron: `make run` starts the whole mesh locally; `make test` runs every test.
# Each package builds once: shared in shared/.build, the services together in
# .build-services (they share every dependency, so those compile once).

SWIFT        ?= swift
CONFIG       ?= release
SERVICES     := ingest scorer notifier generator
# The four services share one scratch path, so shared's modules build once. SwiftPM then keeps
# one build description per configuration (debug.yaml, release.yaml) for whichever package
# built last, and may reuse it for the next one without rebuilding what changed: each service
# build removes it first (it is regenerated in a moment; the build database stays).
SERVICES_DIR := .build-services
SHARED_TEST  := $(SWIFT) test --package-path shared --skip-build --disable-xctest

.PHONY: deps build build-tests format format-check test test-shared test-services test-deploy test-run test-e2e test-faults run up down models bench evaluate-detection clean help

help:
	@echo "make run     install what is missing, build, run the mesh locally (Ctrl-C stops it)"
	@echo "make test    install what is missing, build once, run every package's tests"
	@echo "make bench   release build, then the benchmarks (results go in BENCHMARKS.md)"
	@echo "make evaluate-detection  sensor detection on the labelled synthetic fleet, through the mesh"
	@echo "make build   build every package ($(CONFIG)); make clean removes build output"
	@echo "make format  lay out every Swift file as .swift-format says (make test checks it)"
	@echo "make up      docker compose: the mesh on Redpanda with Prometheus, Alertmanager, Grafana (make down stops it)"
	@echo "make models  train the default sensor and log models into run/models (make run does it when missing)"

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build --package-path shared -c $(CONFIG)
	@for service in $(SERVICES); do \
	  rm -f $(SERVICES_DIR)/$(CONFIG).yaml; \
	  $(SWIFT) build --package-path services/$$service --scratch-path $(SERVICES_DIR) -c $(CONFIG) || exit 1; \
	done

build-tests: deps
	$(SWIFT) build --package-path shared --build-tests
	@for service in $(SERVICES); do \
	  rm -f $(SERVICES_DIR)/debug.yaml; \
	  $(SWIFT) build --package-path services/$$service --scratch-path $(SERVICES_DIR) --build-tests || exit 1; \
	done

test: build-tests format-check test-shared test-services test-deploy test-run test-e2e test-faults

# Every Swift file as .swift-format lays it out (swift-format ships with the toolchain).
SWIFT_FILES = $(shell git ls-files '*.swift' 2>/dev/null)
format:
	@$(SWIFT) format format --in-place --parallel $(SWIFT_FILES)

format-check:
	@$(SWIFT) format lint --strict --parallel $(SWIFT_FILES) && echo "format-check: every Swift file is laid out as .swift-format says"

test-shared:
	$(SHARED_TEST)

# Each package's own test binary, run directly: `swift test --skip-build` finds its tests through
# the one build description the shared scratch path keeps (the last package built), so it would
# run that package's tests four times and the others' never.
test-services:
	@for service in $(SERVICES); do \
	  echo "test-services: $$service"; \
	  $(SERVICES_DIR)/debug/$${service}PackageTests.xctest --testing-library swift-testing || exit 1; \
	done

# Every deployment file (deploy/, Prometheus rules and their unit tests, Alertmanager,
# Grafana, compose, Kubernetes) checked offline by the tool that reads it.
test-deploy: deps
	scripts/validate-deploy.sh

# make run itself, on the debug build: everything comes up ready and Ctrl-C stops it all.
test-run:
	scripts/test-run-local.sh

# The whole mesh as make run starts it, a known stream in, Slack (the stand-in) and the
# real Prometheus and Alertmanager checked for what must come out.
test-e2e:
	scripts/test-e2e.sh

# Faults only a process can have (kill -9 of the scorer, a replica lost, HTTP fuzzing), on the
# real binaries, each counting what comes out; figures in RELIABILITY.md. Broker outages, Slack
# failing and malformed input are Swift tests in test-services.
test-faults:
	@python3 -c 'import pytest' 2>/dev/null || { echo "test-faults: pytest is missing (python3 -m pip install pytest)" >&2; exit 1; }
	python3 -m pytest -s -p no:cacheprovider scripts/faults

run: build
	@CONFIG=$(CONFIG) scripts/run-local.sh

# The same mesh in containers (needs Docker with the compose plugin; not available here).
COMPOSE ?= docker compose
up:
	$(COMPOSE) -f deploy/compose/docker-compose.yml up -d --build

down:
	$(COMPOSE) -f deploy/compose/docker-compose.yml down

# The default models as make run trains them: sensor from synthetic normal readings, log
# severity from the team's corpus (services/scorer/data). Same data and seed, same version.
models: build
	@mkdir -p run/models
	$(SERVICES_DIR)/$(CONFIG)/scorer train --synthetic --out run/models/sensor-iforest.json
	$(SERVICES_DIR)/$(CONFIG)/scorer train-logs --input services/scorer/data/log-corpus.jsonl --out run/models/log-severity.json

bench: deps
	$(SWIFT) build --package-path shared -c release --product alertron-bench
	shared/.build/release/alertron-bench events
	shared/.build/release/alertron-bench kafka
	shared/.build/release/alertron-bench iforest
	shared/.build/release/alertron-bench iforest-quality --datasets ../shared/datasets
	shared/.build/release/alertron-bench logs --datasets ../shared/datasets
	rm -f $(SERVICES_DIR)/release.yaml
	$(SWIFT) build --package-path services/scorer --scratch-path $(SERVICES_DIR) -c release
	SCORER=$(SERVICES_DIR)/release/scorer DATASETS=../shared/datasets scripts/log-quality.sh
	$(SERVICES_DIR)/release/scorer-benchmark
	$(SERVICES_DIR)/release/scorer-benchmark --log-fraction 0.5
	$(SERVICES_DIR)/release/scorer-benchmark --devices 50 --readings 100000
	$(SERVICES_DIR)/release/scorer-benchmark --memory --devices 100000 --channels 8
	SCORER=$(SERVICES_DIR)/release/scorer DATASETS=../shared/datasets scripts/bench-skab.sh
	rm -f $(SERVICES_DIR)/release.yaml
	$(SWIFT) build --package-path services/generator --scratch-path $(SERVICES_DIR) -c release
	scripts/bench-scorer.sh
	$(SWIFT) build --package-path shared -c release --product alertron-devbroker
	rm -f $(SERVICES_DIR)/release.yaml
	$(SWIFT) build --package-path services/ingest --scratch-path $(SERVICES_DIR) -c release
	scripts/bench-ingest.sh
	scripts/bench-mqtt.sh
	rm -f $(SERVICES_DIR)/release.yaml
	$(SWIFT) build --package-path services/generator --scratch-path $(SERVICES_DIR) -c release
	$(SERVICES_DIR)/release/generator-benchmark
	rm -f $(SERVICES_DIR)/release.yaml
	$(SWIFT) build --package-path services/notifier --scratch-path $(SERVICES_DIR) -c release
	$(SERVICES_DIR)/release/notifier-benchmark
	$(MAKE) build CONFIG=release
	scripts/bench-e2e.sh

# Detection quality on the generator's labelled fleet (method and figures in BENCHMARKS.md).
evaluate-detection: deps
	$(SWIFT) build --package-path shared -c release --product alertron-devbroker
	@for service in scorer generator; do \
	  rm -f $(SERVICES_DIR)/release.yaml; \
	  $(SWIFT) build --package-path services/$$service --scratch-path $(SERVICES_DIR) -c release || exit 1; \
	done
	scripts/evaluate-detection.sh

clean:
	rm -rf shared/.build $(SERVICES_DIR) services/*/.build run
