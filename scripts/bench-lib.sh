# Shared by the bench scripts: replaces (or appends) the section between
# `<!-- NAME:start -->` and `<!-- NAME:end -->` in BENCHMARKS.md.
write_section() {
  local name=$1 body=$2 file=${BENCH_FILE:-BENCHMARKS.md}
  [ -f "$file" ] || printf '# weelo-rs benchmarks\n\nEvery figure here comes from a command in this repository; rerun it to check.\n\n' > "$file"
  local section
  section=$(printf '<!-- %s:start -->\n%s\n<!-- %s:end -->' "$name" "$body" "$name")
  python3 - "$file" "$name" "$section" <<'PY'
import re, sys
path, name, section = sys.argv[1:4]
text = open(path).read()
pattern = re.compile(r'<!-- %s:start -->.*?<!-- %s:end -->' % (re.escape(name), re.escape(name)), re.S)
text = pattern.sub(lambda m: section, text) if pattern.search(text) else text.rstrip('\n') + '\n\n' + section + '\n'
open(path, 'w').write(text)
PY
  echo "bench: $name written to $file"
}

machine() {
  printf '%s cores (%s)' "$(nproc)" "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
}

# Starts a release server on port $1 with a fresh database and Redis prefix
# named after $2; sets server_pid and removes everything again on exit.
bench_admin_url="postgres://weelo:weelo@127.0.0.1:5432/weelo"
server_pid=""
start_bench_server() {
  local port=$1 tag=$2
  bench_db="weelo_bench_${tag}_$$"
  bench_prefix="weelo-bench-${tag}-$$:"
  trap stop_bench_server EXIT
  psql "$bench_admin_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $bench_db" >/dev/null
  APP_ENVIRONMENT=local APP_DATABASE__URL="${bench_admin_url%/*}/$bench_db" APP_SERVER__PORT="$port" \
    APP_REDIS__KEY_PREFIX="$bench_prefix" APP_LOG__FILTER=warn APP_SERVER__HOST=127.0.0.1 \
    ./target/release/weelo-server serve &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/api/v1/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
}

stop_bench_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql "$bench_admin_url" -qc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "${bench_prefix}*" | xargs -r redis-cli -h 127.0.0.1 DEL >/dev/null || true
}
