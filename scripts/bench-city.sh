#!/usr/bin/env bash
# The long city run (`make bench-city`): weelo-sim city on a spawned release
# server, 2 000 transporters and 20 orders/s for 10 minutes by default;
# writes BENCHMARKS.md and docs/city-latency.svg.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
transporters=${BENCH_TRANSPORTERS:-2000}
rate=${BENCH_ORDER_RATE:-20}
seconds=${BENCH_SECONDS:-600}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p docs demo
cargo build --release --locked --bin weelo-server --bin weelo-sim
./target/release/weelo-sim city --spawn --transporters "$transporters" --order-rate "$rate" \
  --seconds "$seconds" --drain-seconds 150 --report demo/city-report.json --chart docs/city-latency.svg \
  > /dev/null
summary=$(python3 - <<'PY'
import json
r = json.load(open("demo/city-report.json"))
o, l = r["orders"], r["latency"]
http = r["http"]
rows = [
    ("orders created / filled / completed", f'{o["created"]} / {o["filled"]} / {o["endedAs"].get("completed", 0)}'),
    ("fill rate / expiry rate", f'{o["fillRate"]} / {o["expiryRate"]}'),
    ("create answer → first new_broadcast, p50 / p99", f'{l["orderToFirstBroadcast"]["p50Ms"]} / {l["orderToFirstBroadcast"]["p99Ms"]} ms'),
    ("create answer → filled, p50 / p99", f'{l["orderToFilled"]["p50Ms"]} / {l["orderToFilled"]["p99Ms"]} ms'),
    ("POST bookings/orders p50 / p99", f'{l["create"]["p50Ms"]} / {l["create"]["p99Ms"]} ms'),
    ("POST truck-hold/confirm-with-assignments p99", f'{http.get("truck-hold/confirm-with-assignments", {}).get("p99Ms")} ms'),
    ("PUT tracking/trip/{id}/status p99", f'{http.get("tracking/trip/status", {}).get("p99Ms")} ms'),
    ("socket events delivered", r["socketEvents"]),
    ("5xx answers", r["server5xx"]),
    ("invariant violations", len(r["invariants"]["violations"])),
    ("server RSS at the end", f'{r["serverRssMiB"]} MiB'),
]
print("\n".join(f"| {k} | {v} |" for k, v in rows))
print()
print("Lost holds (another transporter was faster: the race settled as designed): `" + json.dumps(r.get("lostHolds", {})) + "`")
print()
print("Errors by code: `" + json.dumps(r["errors"]) + "`")
PY
)
body=$(cat <<MD
## A city for $((seconds / 60)) minutes (\`make bench-city\`, weelo-sim city)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis and the simulator
(every socket included) share the machine. $transporters transporters (1–2 trucks and a driver per
truck, beating every 5 s) answer broadcasts with probability 0.7 after 0.8 s; customers book $rate
orders/s of 1–4 trucks for $seconds s; drivers accept (5 % decline, 3 % time out) and run trips on an
accelerated clock with GPS on their sockets. The invariants are checked in PostgreSQL at the end.

| figure | value |
|---|---|
$summary

![latency over the run](docs/city-latency.svg)

Command: \`make bench-city\` (or \`scripts/bench-city.sh\`; \`BENCH_TRANSPORTERS\`, \`BENCH_ORDER_RATE\`, \`BENCH_SECONDS\`).
MD
)
write_section bench-city "$body"
