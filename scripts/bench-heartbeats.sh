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
cargo build --release --locked --bin weelo-server --bin weelo-sim
start_bench_server "$port" hb
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
