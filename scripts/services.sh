#!/usr/bin/env bash
# Makes PostgreSQL and Redis answer on 127.0.0.1:5432 and 127.0.0.1:6379, and
# creates the `weelo` role and databases. Idempotent: servers that already
# answer are used as they are; otherwise the Debian packages are installed and
# started. Also installs the Node.js Socket.IO reference client and the S3
# stand-in for the tests.
set -euo pipefail

log() { printf 'services: %s\n' "$*"; }

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_answers() { have pg_isready && pg_isready -q -h 127.0.0.1 -p 5432; }
redis_answers() { have redis-cli && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

start_postgres() {
  have pg_ctlcluster || apt_install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do postgres_answers && return 0; sleep 1; done
  log "PostgreSQL did not come up"; return 1
}

start_redis() {
  have redis-server || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/weelo.log
  for _ in $(seq 1 30); do redis_answers && return 0; sleep 1; done
  log "Redis did not come up"; return 1
}

# Runs SQL as a PostgreSQL superuser: over TCP where trust allows it, else as
# the postgres system user over the local socket (Debian's default).
as_superuser() {
  if psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -Atqc "$1"
  else
    runuser -u postgres -- psql -d postgres -v ON_ERROR_STOP=1 -Atqc "$1"
  fi
}

ensure_weelo_role_and_databases() {
  if [ "$(as_superuser "SELECT 1 FROM pg_roles WHERE rolname = 'weelo'")" != "1" ]; then
    as_superuser "CREATE ROLE weelo LOGIN CREATEDB PASSWORD 'weelo'"
    log "created role weelo"
  fi
  for db in weelo weelo_test; do
    if [ "$(as_superuser "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
      as_superuser "CREATE DATABASE $db OWNER weelo"
      log "created database $db"
    fi
  done
}

ensure_node_client() {
  have node || apt_install nodejs npm
  local dir="tests/node"
  if [ -f "$dir/package.json" ] && { [ ! -d "$dir/node_modules/socket.io-client" ] ||
    [ ! -d "$dir/node_modules/@asyncapi/parser" ]; }; then
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
  fi
}

# The S3-compatible stand-in of the storage tests and Schemathesis, in a
# virtualenv of the tests' own (pinned in tests/python/requirements.txt).
ensure_s3_stand_in() {
  local venv="tests/python/.venv"
  [ -x "$venv/bin/moto_server" ] && [ -x "$venv/bin/st" ] && return 0
  python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
  log "installed the S3 stand-in and Schemathesis into $venv"
}

postgres_answers || start_postgres
redis_answers || start_redis
have redis-server || apt_install redis-server
ensure_weelo_role_and_databases
ensure_node_client
ensure_s3_stand_in
# The TLS test makes its certificate with openssl and, as root, runs its own
# PostgreSQL as the postgres user through runuser.
have openssl || apt_install openssl
have runuser || apt_install util-linux
# The cluster (make run-cluster and its test) runs behind HAProxy; make lint
# checks the alert rules with promtool (Debian's prometheus package).
have haproxy || apt_install haproxy
# The README's walkthrough (run by a test) picks fields out with jq.
have jq || apt_install jq
have promtool || apt_install prometheus
log "PostgreSQL and Redis answer on 127.0.0.1"
