#!/usr/bin/env bash
# `make demo`: a two-minute city on this machine. The simulator starts a
# release server of its own on a fresh database, runs transporters, drivers
# and customers through the apps' API and sockets, checks the invariants in
# PostgreSQL, and writes demo/report.json and demo/latency.svg (and a PNG of
# it when rsvg-convert is there or can be installed). The server pushes
# through FCM HTTP v1 to a local stand-in, and the drivers run as the shipped
# driver app does: no socket, trips by push (the report's `push` block).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p demo
cargo build --release --locked --bin weelo-server --bin weelo-sim
./target/release/weelo-sim city --spawn --push-stand-in \
  --transporters "${DEMO_TRANSPORTERS:-300}" --order-rate "${DEMO_ORDER_RATE:-3}" \
  --seconds "${DEMO_SECONDS:-75}" --drain-seconds "${DEMO_DRAIN_SECONDS:-75}" \
  --report demo/report.json --chart demo/latency.svg
if ! command -v rsvg-convert >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq librsvg2-bin >/dev/null 2>&1 || true
fi
if command -v rsvg-convert >/dev/null 2>&1; then
  rsvg-convert demo/latency.svg -o demo/latency.png
  echo "demo: report demo/report.json, chart demo/latency.png (and .svg)"
else
  echo "demo: report demo/report.json, chart demo/latency.svg (no rsvg-convert for a PNG)"
fi
