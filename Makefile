# weelo-rs: the two commands are `make run` and `make test`. CI runs
# `make lint` and `make test` (.ci/run); this file is what CI runs.

CARGO ?= cargo
DOMAIN_CRATES := weelo-orders weelo-availability
FORBIDDEN_IN_DOMAIN := diesel diesel-async actix-web actix-ws redis deadpool-redis tokio
# The use cases run with no web framework under them.
USE_CASE_CRATE := weelo-dispatch
FORBIDDEN_IN_USE_CASES := actix-web actix-ws actix-http
# The HTTP edge names no storage crate: it calls the use cases of weelo-dispatch.
EDGE_CRATE := weelo-api
FORBIDDEN_IN_EDGE := diesel diesel-async redis deadpool-redis

.PHONY: services run run-cluster deploy-check docs-check package-check semver-check fuzz migrate test lint fmt-check clippy deps-check schema-check tools bench bench-geo bench-city bench-abuse sim demo conformance

## Make PostgreSQL and Redis answer on 127.0.0.1 (installs them if needed).
services:
	@./scripts/services.sh

## Run the server (release build) against the local services.
run: services
	$(CARGO) build --release --locked --bin weelo-server
	APP_ENVIRONMENT=local ./target/release/weelo-server migrate
	APP_ENVIRONMENT=local ./target/release/weelo-server serve

## Two instances behind HAProxy on port 3000, as deploy/ runs them in production.
run-cluster: services
	@./scripts/run-cluster.sh

## Schemathesis from the server's OpenAPI document, FUZZ_SECONDS per role
## (default 300) against a server of its own; make test runs a 15 s pass.
fuzz: services
	@./scripts/fuzz.sh

## Apply pending migrations to the local database.
migrate: services
	APP_ENVIRONMENT=local $(CARGO) run --locked --bin weelo-server -- migrate

## Every test of the workspace against the real services.
test: services
	$(CARGO) test --workspace --locked

## Formatting, clippy, dependency direction, schema drift and the deploy files.
lint: fmt-check clippy deps-check schema-check deploy-check docs-check package-check semver-check

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## The domain crates must pull in no storage, web or runtime crate (their
## whole normal dependency tree is listed and searched); the HTTP edge
## depends on no storage crate directly.
deps-check:
	@for crate in $(DOMAIN_CRATES); do \
	  tree=$$($(CARGO) tree --locked -p $$crate -e normal --prefix none --format '{p}') || exit 1; \
	  for dep in $(FORBIDDEN_IN_DOMAIN); do \
	    if printf '%s\n' "$$tree" | grep -q "^$$dep v"; then \
	      echo "deps-check: $$crate depends on $$dep"; exit 1; \
	    fi; \
	  done; \
	done; echo "deps-check: $(DOMAIN_CRATES) pull in none of: $(FORBIDDEN_IN_DOMAIN)"
	@tree=$$($(CARGO) tree --locked -p $(USE_CASE_CRATE) -e normal --prefix none --format '{p}') || exit 1; \
	for dep in $(FORBIDDEN_IN_USE_CASES); do \
	  if printf '%s\n' "$$tree" | grep -q "^$$dep v"; then \
	    echo "deps-check: $(USE_CASE_CRATE) depends on $$dep"; exit 1; \
	  fi; \
	done; echo "deps-check: $(USE_CASE_CRATE) pulls in none of: $(FORBIDDEN_IN_USE_CASES)"
	@direct=$$($(CARGO) tree --locked -p $(EDGE_CRATE) -e normal --depth 1 --prefix none --format '{p}') || exit 1; \
	for dep in $(FORBIDDEN_IN_EDGE); do \
	  if printf '%s\n' "$$direct" | grep -q "^$$dep v"; then \
	    echo "deps-check: $(EDGE_CRATE) depends on $$dep directly"; exit 1; \
	  fi; \
	done; echo "deps-check: $(EDGE_CRATE) depends directly on none of: $(FORBIDDEN_IN_EDGE)"

## Regenerate schema.rs from the migrations in a scratch database and diff it.
schema-check: services tools
	@./scripts/schema-check.sh

## Every crate's documentation builds without a warning (broken links,
## links to private items).
docs-check:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --workspace --locked

## The crates published on their own package and build from their package
## alone (the rest follow as they get their README, changelog and version).
PUBLISHED_CRATES := weelo-orders weelo-availability weelo-cache weelo-persistence
package-check:
	$(CARGO) package --locked --allow-dirty $(addprefix -p ,$(PUBLISHED_CRATES))

## No published crate breaks its API without a major version: each is
## compared with its last packaged version, the commit named in its
## `semver-baseline` file (update the file when the crate is released; a
## crate without one has no released version yet).
semver-check: tools
	@for crate in $(PUBLISHED_CRATES); do \
	  dir=crates/$${crate#weelo-}; \
	  if [ ! -f $$dir/semver-baseline ]; then \
	    echo "semver-check: $$crate has no released version to compare with yet"; continue; \
	  fi; \
	  $(CARGO) semver-checks --package $$crate --baseline-rev $$(cat $$dir/semver-baseline) || exit 1; \
	done

## The operator's files: Prometheus's configuration and alert rules (with
## their unit tests), HAProxy's configuration, the Grafana dashboard's JSON.
deploy-check: services
	promtool check config deploy/prometheus/prometheus.yml
	promtool check rules deploy/prometheus/alerts.yml
	cd deploy/prometheus && promtool test rules alerts.test.yml
	WEELO_LISTEN=127.0.0.1:3000 WEELO_1=127.0.0.1:3001 WEELO_2=127.0.0.1:3002 \
	  WEELO_STATS=127.0.0.1:8404 haproxy -c -q -f deploy/haproxy/haproxy.cfg
	python3 -m json.tool deploy/grafana/weelo.json >/dev/null

tools:
	@command -v diesel >/dev/null 2>&1 || $(CARGO) install diesel_cli --locked --no-default-features --features postgres
	@command -v cargo-semver-checks >/dev/null 2>&1 || $(CARGO) install cargo-semver-checks --locked

## Benchmarks: each profile writes its figures, command and machine into
## BENCHMARKS.md.
bench: services
	$(CARGO) bench --locked -p weelo-availability --bench nearby
	./scripts/bench-geo.sh
	./scripts/bench-heartbeats.sh
	./scripts/bench-orders.sh
	./scripts/bench-sockets.sh
	./scripts/bench-dispatch.sh
	./scripts/bench-tracking.sh
	./scripts/bench-places.sh

## Only the nearby-search comparison with Redis GEOSEARCH.
bench-geo: services
	@./scripts/bench-geo.sh

## The hardening figures: RSS and /metrics after 30 000 made-up methods and
## 50 000 handshakes from one address (printed, not written to BENCHMARKS.md).
bench-abuse: services
	@./scripts/bench-abuse.sh

## The ten-minute city (2 000 transporters, 20 orders/s): BENCHMARKS.md and docs/city-latency.svg.
bench-city: services
	@./scripts/bench-city.sh

## A two-minute city: a server of its own, the simulator, demo/report.json and a latency chart.
demo: services
	@./scripts/demo.sh

## The official Engine.IO and Socket.IO protocol suites against the realtime
## crate's conformance server (cloned outside the repository; needs network).
conformance:
	@./scripts/conformance.sh

sim:
	$(CARGO) run --locked --bin weelo-sim -- --help
