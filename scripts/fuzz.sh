#!/usr/bin/env bash
# `make fuzz`: Schemathesis against a server of its own (a fresh database
# and Redis prefix), from the server's OpenAPI document; one pass per role.
# FUZZ_SECONDS (per role, default 300) bounds it. Fails on any 5xx, an
# answer that does not match its schema, or a request the server accepted
# that the schema forbids.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-300}
port=${FUZZ_PORT:-3097}
admin=postgres://weelo:weelo@127.0.0.1:5432/weelo
db="weelo_fuzz_$$"
objects=$(mktemp -d)
cargo build --locked --bin weelo-server
psql "$admin" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db" >/dev/null
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  redis-cli --scan --pattern "weelo-fuzz-$$:*" | xargs -r redis-cli del >/dev/null 2>&1 || true
  rm -rf "$objects"
}
trap cleanup EXIT
APP_ENVIRONMENT=local APP_DATABASE__URL="${admin%/*}/$db" APP_SERVER__PORT="$port" \
  APP_SERVER__HOST=127.0.0.1 APP_REDIS__KEY_PREFIX="weelo-fuzz-$$:" APP_LOG__FILTER=warn \
  APP_STORAGE__URL="file://$objects" ./target/debug/weelo-server serve &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/api/v1/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
tests/python/.venv/bin/python scripts/fuzz.py --url "http://127.0.0.1:$port" \
  --max-time "$seconds" --st tests/python/.venv/bin/st
