#!/usr/bin/env bash
# The socket benchmark (`make bench`, profile bench-sockets): `weelo-sim
# bench-sockets --spawn` holds N WebSockets of one customer on a release
# server with a fresh database, then cancels the customer's order; reports
# RSS per socket, the delivery of `order_cancelled` to all of them, and the
# CPU the server and the load tool spent on it. Then the floor: the same
# number of sockets on a bare actix-ws server (examples/bare-websockets.rs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
sockets=${BENCH_SOCKETS:-10000}
bare_port=${BENCH_BARE_PORT:-3932}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --locked --bin weelo-server --bin weelo-sim
cargo build --release --locked -p weelo-realtime --example bare-websockets
result=$(./target/release/weelo-sim bench-sockets --spawn --sockets "$sockets")
echo "weelo: $result"
PORT=$bare_port ./target/release/examples/bare-websockets &
bare_pid=$!
for _ in $(seq 1 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$bare_port") 2>/dev/null && break
  sleep 0.1
done
bare=$(node tests/node/bench-bare-sockets.mjs "ws://127.0.0.1:$bare_port/ws" "$bare_pid" "$sockets")
kill "$bare_pid"
echo "bare actix-ws: $bare"
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
body=$(cat <<MD
## Sockets (\`make bench\`, profile bench-sockets)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis and the load tool
share the machine. \`weelo-sim bench-sockets\` opens $sockets WebSocket sockets of one customer
on one instance (a small task each, Engine.IO spoken by hand); then the customer's order is
cancelled and \`order_cancelled\` goes through the outbox, the relay and the hub to all of them.
The floor is the same number of sockets on a bare actix-ws server that only greets and reads
(\`examples/bare-websockets.rs\`, held by \`tests/node/bench-bare-sockets.mjs\`).

| figure | value |
|---|---|
| server RSS per socket (bare actix-ws: floor) | $(field "$result" rssPerSocketKiB) KiB ($(field "$bare" rssPerSocketKiB) KiB) |
| delivery of one room event to all sockets, first / p50 / p99 / max | $(field "$result" deliveryFirstMs) / $(field "$result" deliveryP50Ms) / $(field "$result" deliveryP99Ms) / $(field "$result" deliveryMaxMs) ms |
| CPU spent on that delivery: server / load tool | $(field "$result" serverCpuMs) / $(field "$result" loadToolCpuMs) ms |

Every socket's frame is one write on the server and one read in the load tool, over loopback
TCP on the same two cores: the CPU line is the floor under the delivery time on this machine.

Raw: \`$result\`, \`$bare\`

Command: \`make bench\` (or \`scripts/bench-sockets.sh\`; \`BENCH_SOCKETS\`).
MD
)
write_section bench-sockets "$body"
