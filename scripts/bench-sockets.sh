#!/usr/bin/env bash
# The socket benchmark: a release server on a fresh database holds N
# WebSocket sockets of one customer (tests/node/bench-sockets.mjs); reports
# RSS per socket and the time for one room event to reach all of them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
sockets=${BENCH_SOCKETS:-10000}
port=${BENCH_PORT:-3919}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --locked --bin weelo-server
start_bench_server "$port" ws
result=$(node tests/node/bench-sockets.mjs "http://127.0.0.1:$port" "$server_pid" "$sockets")
echo "weelo: $result"
field() { printf '%s' "$result" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
body=$(cat <<MD
## Sockets (\`make bench\`, profile bench-sockets)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis and the load tool
(node with \`ws\`, Engine.IO spoken by hand) share the machine. $sockets WebSocket sockets of one
customer on one instance; then the customer's order is cancelled and \`order_cancelled\` goes
through the outbox, Redis pub/sub and the hub to all of them.

| figure | value |
|---|---|
| server RSS per socket | $(field rssPerSocketKiB) KiB |
| delivery of one room event to all sockets, p50 / p99 / max | $(field deliveryP50Ms) / $(field deliveryP99Ms) / $(field deliveryMaxMs) ms |

Raw: \`$result\`

Command: \`make bench\` (or \`scripts/bench-sockets.sh\`; \`BENCH_SOCKETS\`).
MD
)
write_section bench-sockets "$body"
