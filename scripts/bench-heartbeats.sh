#!/usr/bin/env bash
# Heartbeat ingest through HTTP: a release server on a fresh database and
# `weelo-sim bench-heartbeats` against it; writes BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
transporters=${BENCH_TRANSPORTERS:-2000}
concurrency=${BENCH_CONCURRENCY:-64}
seconds=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-3918}
admin_url="postgres://weelo:weelo@127.0.0.1:5432/weelo"
db="weelo_bench_hb_$$"
prefix="weelo-bench-hb-$$:"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "${prefix}*" | xargs -r redis-cli -h 127.0.0.1 DEL >/dev/null || true
}
trap cleanup EXIT
cargo build --release --locked --bin weelo-server --bin weelo-sim
psql "$admin_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db" >/dev/null
APP_ENVIRONMENT=local APP_DATABASE__URL="${admin_url%/*}/$db" APP_SERVER__PORT="$port" \
  APP_REDIS__KEY_PREFIX="$prefix" APP_LOG__FILTER=warn APP_SERVER__HOST=127.0.0.1 \
  ./target/release/weelo-server serve &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/api/v1/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
result=$(./target/release/weelo-sim bench-heartbeats --url "http://127.0.0.1:$port" \
  --transporters "$transporters" --seconds "$seconds" --concurrency "$concurrency")
rss_kb=$(ps -o rss= -p "$server_pid" | tr -d ' ')
echo "weelo: $result"
rate=$(printf '%s' "$result" | sed -n 's/.*"beatsPerSecond":\([0-9.]*\).*/\1/p')
p99=$(printf '%s' "$result" | sed -n 's/.*"p99Ms":\([0-9.]*\).*/\1/p')
body=$(cat <<MD
## Heartbeat ingest (\`make bench\`, profile bench-heartbeats)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis and the load
generator share the machine. $transporters transporters online with a truck each; $concurrency
senders post \`transporter/heartbeat\` round-robin over them for $seconds s (each beat: JWT and
session check, index update, one Redis pipeline with the presence hash and the stream entry).

| figure | value |
|---|---|
| beats per second | $rate |
| beat latency p99 | $p99 ms |
| server RSS after the run | $((rss_kb / 1024)) MiB |

Raw: \`$result\`

Command: \`make bench\` (or \`scripts/bench-heartbeats.sh\`; \`BENCH_TRANSPORTERS\`, \`BENCH_CONCURRENCY\`, \`BENCH_SECONDS\`).
MD
)
write_section bench-heartbeats "$body"
