#!/usr/bin/env bash
# Place look-ups over HTTP (`make bench`, profile bench-places): `weelo-sim
# bench-places` spawns a release server whose maps provider is a local
# stand-in answering as Google does, asks the same search and reverse
# look-up many times (answered from the Redis cache) and distinct searches
# (answered by the provider); the embedded gazetteer's in-process figures
# come from `cargo bench -p weelo-availability --bench gazetteer`. Writes
# BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
requests=${BENCH_REQUESTS:-2000}
concurrency=${BENCH_CONCURRENCY:-8}
cargo build --release --locked --bin weelo-server --bin weelo-sim
result=$(./target/release/weelo-sim bench-places --requests "$requests" --concurrency "$concurrency")
echo "weelo: $result"
embedded=$(cargo bench --locked -p weelo-availability --bench gazetteer 2>/dev/null | grep -E '^(loaded|search|reverse)')
echo "$embedded"
field() { printf '%s' "$result" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
body=$(cat <<MD
## Places (\`make bench\`, profile bench-places)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis, the stand-in
provider and the load generator share the machine. $requests identical searches and $requests
identical reverse look-ups, $concurrency in flight, through HTTP with a token (all but the first
few answered from the Redis cache), then $((requests / 4)) distinct searches answered by the
stand-in provider (Google's Places API (New) shape) and kept.

| figure | value |
|---|---|
| cached search over HTTP, p50 / p99 | $(field cachedSearchP50Ms) / $(field cachedSearchP99Ms) ms |
| cached reverse look-up over HTTP, p50 / p99 | $(field cachedReverseP50Ms) / $(field cachedReverseP99Ms) ms |
| search through the provider (a local stand-in), p50 / p99 | $(field providerSearchP50Ms) / $(field providerSearchP99Ms) ms |
| provider calls for the $requests identical searches / reverse look-ups | $(field providerCallsForCachedSearches) / $(field providerCallsForCachedReverses) |

The embedded gazetteer in process (\`cargo bench -p weelo-availability --bench gazetteer\`, each
query timed alone, random points and a mix of prefixes):

\`\`\`
$embedded
\`\`\`

Raw: \`$result\`

Command: \`make bench\` (or \`scripts/bench-places.sh\`; \`BENCH_REQUESTS\`, \`BENCH_CONCURRENCY\`).
MD
)
write_section bench-places "$body"
