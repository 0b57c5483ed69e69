#!/usr/bin/env bash
# Runs the official Engine.IO v4 and Socket.IO v5 protocol suites
# (github.com/socketio/engine.io-protocol and socket.io-protocol, folder
# test-suite/) against `cargo run -p weelo-realtime --example conformance`.
# The suites are cloned into a scratch folder outside the repository (never
# committed here) and need git, node and npm; the server listens on
# 127.0.0.1:3000, where the suites expect it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${CONFORMANCE_DIR:-${TMPDIR:-/tmp}/weelo-conformance}
mkdir -p "$work"
for suite in engine.io-protocol socket.io-protocol; do
  if [ ! -d "$work/$suite" ]; then
    git clone --quiet --depth 1 "https://github.com/socketio/$suite.git" "$work/$suite"
  fi
  (cd "$work/$suite/test-suite" && npm ci --silent --no-audit --no-fund)
done
cd "$root"
cargo build --locked -p weelo-realtime --example conformance
./target/debug/examples/conformance &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:3000/engine.io/?EIO=4&transport=polling" && break
  sleep 0.1
done
status=0
for suite in engine.io-protocol socket.io-protocol; do
  echo "== $suite"
  (cd "$work/$suite/test-suite" && npx mocha test-suite.js) || status=1
done
exit $status
