#!/usr/bin/env bash
# The order-create benchmark of `make bench`: a release server on a fresh
# database, `weelo-sim bench-orders` against it, then pgbench inserting one
# row per transaction into the same database, in the same run. Writes the
# figures into BENCHMARKS.md between the bench-orders markers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/bench-lib.sh
customers=${BENCH_CUSTOMERS:-10000}
concurrency=${BENCH_CONCURRENCY:-32}
calm_concurrency=${BENCH_CALM_CONCURRENCY:-8}
port=${BENCH_PORT:-3917}

cargo build --release --locked --bin weelo-server --bin weelo-sim

start_bench_server "$port" orders
idle_rss_kb=$(ps -o rss= -p "$server_pid" | tr -d ' ')

# pgbench first, on the same database while the server idles: every order
# keeps the database busy after its create (radius steps for 40 s, expiry
# at 60 s), which would slow a pgbench run after the creates.
psql "${bench_admin_url%/*}/$bench_db" -v ON_ERROR_STOP=1 -qc \
  "CREATE TABLE bench_rows (id BIGSERIAL PRIMARY KEY, customer_id UUID NOT NULL, body JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
script=$(mktemp)
echo "INSERT INTO bench_rows (customer_id, body) VALUES (gen_random_uuid(), '{\"trucks\": 2}');" > "$script"
pgbench_out=$(pgbench -n -c 16 -j 2 -T 10 -f "$script" "${bench_admin_url%/*}/$bench_db" 2>&1)
rm -f "$script"
pg_tps=$(printf '%s\n' "$pgbench_out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
pg_latency=$(printf '%s\n' "$pgbench_out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' | head -1)
echo "pgbench: tps=$pg_tps latency_avg_ms=$pg_latency"

result=$(./target/release/weelo-sim bench-orders --url "http://127.0.0.1:$port" \
  --customers "$customers" --concurrency "$concurrency")
loaded_rss_kb=$(ps -o rss= -p "$server_pid" | tr -d ' ')
echo "weelo: $result"
# Few requests in flight, for latency: a fresh server and database, so the
# first pass's orders (still stepping) do not weigh on it.
stop_bench_server
start_bench_server "$port" orders
calm=$(./target/release/weelo-sim bench-orders --url "http://127.0.0.1:$port" \
  --customers "$customers" --concurrency "$calm_concurrency")
echo "weelo, $calm_concurrency in flight: $calm"

rate=$(printf '%s' "$result" | sed -n 's/.*"createsPerSecond":\([0-9.]*\).*/\1/p')
p50=$(printf '%s' "$result" | sed -n 's/.*"p50Ms":\([0-9.]*\).*/\1/p')
p99=$(printf '%s' "$result" | sed -n 's/.*"p99Ms":\([0-9.]*\).*/\1/p')
calm_rate=$(printf '%s' "$calm" | sed -n 's/.*"createsPerSecond":\([0-9.]*\).*/\1/p')
calm_p50=$(printf '%s' "$calm" | sed -n 's/.*"p50Ms":\([0-9.]*\).*/\1/p')
calm_p99=$(printf '%s' "$calm" | sed -n 's/.*"p99Ms":\([0-9.]*\).*/\1/p')
ratio=$(awk -v a="$rate" -v b="$pg_tps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')

body=$(cat <<MD
## Order creation (\`make bench\`, profile bench-orders)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(machine); server, PostgreSQL, Redis and the load
generator share the machine. Each of $customers distinct customers creates one order of 2 trucks
(the first dispatch step planned in memory, then the create statement: idempotency claim with the
answer, order, 2 truck requests, the step's notifications and events, the next step's schedule; creates
that arrive together share one statement and one commit, and their Redis mirror writes one call),
$concurrency requests in flight; then, on a fresh server and database, $customers customers the same way
with $calm_concurrency in flight, for latency when the machine is not saturated. pgbench runs first, on
the same database while the server idles. No transporter is online, so the step tells
nobody.

| figure | value |
|---|---|
| creates per second, $concurrency in flight | $rate |
| create latency p50 / p99, $concurrency in flight | $p50 ms / $p99 ms |
| creates per second, $calm_concurrency in flight | $calm_rate |
| create latency p50 / p99, $calm_concurrency in flight | $calm_p50 ms / $calm_p99 ms |
| pgbench, one-row INSERT per transaction, 16 clients, same database, same run | $pg_tps tps (avg $pg_latency ms) |
| weelo creates / pgbench inserts | $ratio |
| server RSS idle / after the run | $((idle_rss_kb / 1024)) MiB / $((loaded_rss_kb / 1024)) MiB |

Raw: \`$result\`, \`$calm\`

Command: \`make bench\` (or \`scripts/bench-orders.sh\`; \`BENCH_CUSTOMERS\`, \`BENCH_CONCURRENCY\`,
\`BENCH_CALM_CONCURRENCY\`).
MD
)
write_section bench-orders "$body"
