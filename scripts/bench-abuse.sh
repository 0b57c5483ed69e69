#!/usr/bin/env bash
# The hardening issue's figures: a release server (production's realtime
# caps) is sent 30 000 requests with made-up methods and 50 000 Engine.IO
# handshakes from one address; its RSS and /metrics size before and after.
# Prints the figures (nothing is written to BENCHMARKS.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
port=${BENCH_PORT:-3921}
methods=${BENCH_METHODS:-30000}
handshakes=${BENCH_HANDSHAKES:-50000}
cargo build --release --locked --bin weelo-server
# Production's per-address cap (local.toml raises it for the simulator).
export APP_REALTIME__MAX_SESSIONS_PER_IP=200 APP_REALTIME__MAX_SESSIONS=100000
start_bench_server "$port" abuse
base="http://127.0.0.1:$port"
rss() { ps -o rss= -p "$server_pid" | tr -d ' '; }
metrics_bytes() { curl -s "$base/metrics" | wc -c; }
echo "start: rss ${rss_kb:=$(rss)} KiB, /metrics $(metrics_bytes) bytes"
echo "methods: $(node tests/node/abuse.mjs "$base" methods "$methods")"
echo "after $methods made-up methods: rss $(rss) KiB, /metrics $(metrics_bytes) bytes"
echo "handshakes: $(node tests/node/abuse.mjs "$base" handshakes "$handshakes")"
echo "after $handshakes handshakes from one address: rss $(rss) KiB, /metrics $(metrics_bytes) bytes"
curl -s "$base/metrics" | grep -E '^weelo_realtime_(refused_total|sessions)' || true
