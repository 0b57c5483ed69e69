#!/usr/bin/env bash
# Fails when crates/persistence/src/schema.rs is not what `diesel print-schema`
# gives after running every migration on a scratch database.
# `--write` rewrites schema.rs instead of failing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
schema="$root/crates/persistence/src/schema.rs"
admin_url="${SCHEMA_CHECK_ADMIN_URL:-postgres://weelo:weelo@127.0.0.1:5432/weelo}"
db="weelo_schema_check_$$"
url="${admin_url%/*}/$db"
scratch=$(mktemp -d)
cleanup() {
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
# diesel.toml's print_schema options without its `file`, so that running the
# migrations here can never rewrite the committed schema.rs.
grep -v '^file = ' "$root/diesel.toml" > "$scratch/diesel.toml"
psql "$admin_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db" >/dev/null
cd "$scratch"
diesel migration run --database-url "$url" --migration-dir "$root/migrations" >/dev/null
diesel print-schema --database-url "$url" > "$scratch/schema.rs"
if diff -u "$schema" "$scratch/schema.rs"; then
  echo "schema-check: schema.rs matches the migrations"
elif [ "${1:-}" = "--write" ]; then
  cp "$scratch/schema.rs" "$schema"
  echo "schema-check: rewrote schema.rs"
else
  echo "schema-check: schema.rs is out of step with migrations/ (run scripts/schema-check.sh --write)"
  exit 1
fi
