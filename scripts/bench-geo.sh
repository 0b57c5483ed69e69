#!/usr/bin/env bash
# `make bench-geo`: the proximity index against Redis GEOSEARCH on the same
# 100 000 points and queries. Ends with the line
# `nearby_search ours_qps=<n> geosearch_qps=<n> ratio=<x>`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
cargo build --release --locked --bin weelo-sim >&2
output=$(./target/release/weelo-sim bench-geo --redis "${BENCH_REDIS_URL:-redis://127.0.0.1:6379}")
json=$(printf '%s\n' "$output" | head -1)
line=$(printf '%s\n' "$output" | tail -1)
body=$(cat <<MD
## Nearby search (\`make bench-geo\`)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine). 100 000 transporters uniformly over 40 km × 40 km
(Delhi), 20 000 random queries, k = 10, radius 5 km. Ours: one thread, each search timed. Redis:
\`GEOSEARCH … FROMLONLAT … BYRADIUS 5 km ASC COUNT 10\` on the same points and queries, pipelined 64
at a time over one connection (Redis runs on one core).

Result: \`$line\`

Raw: \`$json\`

Command: \`make bench-geo\` (\`scripts/bench-geo.sh\`).
MD
)
write_section bench-geo "$body" >&2
echo "$line"
