#!/usr/bin/env bash
# Dispatch fan-out and hold contention (`make bench`, profile
# bench-dispatch): `weelo-sim bench-dispatch --spawn` starts a release server
# on a fresh database; writes BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
transporters=${BENCH_TRANSPORTERS:-5000}
rate=${BENCH_ORDER_RATE:-100}
seconds=${BENCH_SECONDS:-30}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --locked --bin weelo-server --bin weelo-sim
result=$(./target/release/weelo-sim bench-dispatch --spawn --transporters "$transporters" \
  --order-rate "$rate" --seconds "$seconds")
echo "weelo: $result"
field() { printf '%s' "$result" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
body=$(cat <<MD
## Dispatch fan-out and hold contention (\`make bench\`, profile bench-dispatch)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis and the load
generator (the sockets included) share the machine. $transporters transporters online with one
open 17 ft truck each, beating every 5 s, each with a Socket.IO connection; $rate orders/s of one
truck for $seconds s, pickups spread over the city. Then every transporter told of an order presses
hold on it, all orders at once (128 requests in flight).

| figure | value |
|---|---|
| create answer → first \`new_broadcast\` on a transporter's socket, p50 / p99 | $(field firstBroadcastP50Ms) / $(field firstBroadcastP99Ms) ms |
| hold presses per second under contention | $(field holdsPerSecond) |
| hold latency p99 | $(field holdP99Ms) ms |
| orders with exactly one winner / contested | $(field ordersWithOneWinner) / $(field contestedOrders) |
| orders with more than one winner | $(field ordersWithMoreThanOneWinner) |
| server RSS after the run | $(field serverRssMiB) MiB |

Raw: \`$result\`

Command: \`make bench\` (or \`scripts/bench-dispatch.sh\`; \`BENCH_TRANSPORTERS\`, \`BENCH_ORDER_RATE\`, \`BENCH_SECONDS\`).
MD
)
write_section bench-dispatch "$body"
