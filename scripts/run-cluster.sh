#!/usr/bin/env bash
# The production topology on this machine, without containers: two
# weelo-server instances (ports 3001 and 3002, metrics on 9101 and 9102) on
# the local PostgreSQL and Redis, behind HAProxy on port 3000 with the
# configuration of deploy/haproxy/haproxy.cfg (its status page on 8404).
# The apps and `weelo-sim` connect to http://127.0.0.1:3000 as to one server.
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v haproxy >/dev/null 2>&1 || {
  echo "run-cluster: haproxy is missing (make services installs it)" >&2
  exit 1
}
cargo build --release --locked --bin weelo-server
bin=./target/release/weelo-server
APP_ENVIRONMENT=local "$bin" migrate

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

for n in 1 2; do
  APP_ENVIRONMENT=local \
  APP_SERVER__PORT="300$n" \
  APP_SERVER__MIGRATE_ON_START=false \
  APP_SERVER__TRUSTED_PROXIES=127.0.0.1 \
  APP_METRICS__LISTEN="127.0.0.1:910$n" \
    "$bin" serve &
  pids+=("$!")
done

WEELO_LISTEN=0.0.0.0:3000 WEELO_1=127.0.0.1:3001 WEELO_2=127.0.0.1:3002 \
WEELO_STATS=127.0.0.1:8404 \
  haproxy -db -f deploy/haproxy/haproxy.cfg &
pids+=("$!")

echo "run-cluster: HAProxy on http://127.0.0.1:3000 in front of 127.0.0.1:3001 and 127.0.0.1:3002"
echo "run-cluster: metrics on 127.0.0.1:9101 and :9102, HAProxy's status on http://127.0.0.1:8404"
wait -n
