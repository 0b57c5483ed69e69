#!/usr/bin/env bash
# GPS ingest (`make bench`, profile bench-tracking): `weelo-sim
# bench-tracking` spawns a release server on a fresh database, sets trips up
# through the API and pushes fixes through tracking/batch and sockets;
# writes BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
trips=${BENCH_TRIPS:-200}
concurrency=${BENCH_CONCURRENCY:-64}
batch=${BENCH_BATCH:-100}
seconds=${BENCH_SECONDS:-15}
cargo build --release --locked --bin weelo-server --bin weelo-sim
result=$(./target/release/weelo-sim bench-tracking --trips "$trips" --concurrency "$concurrency" \
  --batch "$batch" --seconds "$seconds")
echo "weelo: $result"
field() { printf '%s' "$result" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
body=$(cat <<MD
## GPS ingest (\`make bench\`, profile bench-tracking)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis and the load
generator share the machine. $trips trips set up through the API (hold, confirm, accept, in
transit), then for $seconds s each: \`POST tracking/batch\` with $batch points, $concurrency in
flight (each batch validated, ordered, de-duplicated, stored in one INSERT, the latest fix shared
in Redis, \`location_updated\` at most once a second per trip); then \`update_location\` on the
drivers' sockets as fast as the tool sends them (stored through the batching writer; counted as
rows landed in \`trip_points\`).

| figure | value |
|---|---|
| points accepted per second, tracking/batch | $(field batchPointsPerSecond) |
| tracking/batch latency p50 / p99 | $(field batchP50Ms) / $(field batchP99Ms) ms |
| points stored per second, sockets | $(field socketPointsPerSecond) |
| socket fixes sent / stored | $(field socketFixesSent) / $(field socketFixesStored) |

Raw: \`$result\`

Command: \`make bench\` (or \`scripts/bench-tracking.sh\`; \`BENCH_TRIPS\`, \`BENCH_CONCURRENCY\`, \`BENCH_BATCH\`, \`BENCH_SECONDS\`).
MD
)
write_section bench-tracking "$body"
