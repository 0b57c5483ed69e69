//! `weelo-sim`: drives a weelo-server over HTTP and Socket.IO exactly as the
//! apps do: `city` simulates a whole city (transporters, drivers,
//! customers, trips) and reports on it; the `bench-*` profiles are the load
//! tests of `make bench`.

mod bench_dispatch;
mod bench_geo;
mod bench_heartbeats;
mod bench_orders;
mod bench_places;
mod bench_sockets;
mod bench_tracking;
mod chart;
mod city;
mod client;
mod flags;
mod herd;
mod push_stand_in;
mod socket;
mod spawn;
mod stats;

const USAGE: &str = "usage: weelo-sim city [--spawn | --url URL] [--transporters N] [--order-rate R] [--seconds S] [options]
       weelo-sim bench-dispatch [--spawn | --url URL] [--transporters N] [--order-rate R] [--seconds S]
       weelo-sim bench-tracking [--trips K] [--concurrency C] [--batch B] [--seconds S]
       weelo-sim bench-orders [--url URL] [--customers N] [--concurrency C]
       weelo-sim bench-geo [--points N] [--queries Q] [--redis URL]
       weelo-sim bench-heartbeats [--url URL] [--transporters N] [--seconds S] [--concurrency C]
       weelo-sim bench-sockets [--spawn | --url URL --pid PID] [--sockets N]
       weelo-sim bench-places [--requests N] [--concurrency C]
       weelo-sim <profile> --help   (every option, its default and what it does)

bench-dispatch  N transporters online with sockets; R orders/s for S s:
              order answer to first new_broadcast p50/p99; then everyone told
              presses hold at once: holds/s and one winner per order.
              Defaults: 5000 transporters, 100 orders/s, 30 s.
bench-tracking  K trips set up through the API on a spawned server, then
              GPS fixes as fast as possible through tracking/batch (C in
              flight, B points each) and through the drivers' sockets:
              points accepted per second each way.
              Defaults: 200 trips, 64 in flight, 100 points, 15 s each.
bench-orders  logs N customers in (the server must expose OTPs: local config),
              then has each create one order, C at a time, and prints the
              create throughput and latency percentiles as one JSON line.
              Defaults: --url http://127.0.0.1:3000 --customers 4000 --concurrency 64
bench-geo     the k-nearest search (k 10, 5 km) on N points in a 40 km city,
              against Redis GEOSEARCH on the same points; prints both rates.
bench-heartbeats  N transporters online, then heartbeats as fast as C
              concurrent senders allow for S seconds; prints beats/s and p99.
bench-sockets N WebSockets of one customer (Engine.IO by hand, one thread
              for all), then the customer's order is cancelled: server RSS per
              socket and the delivery of order_cancelled to all of them.
              Defaults: 10000 sockets.
bench-places  a spawned server whose maps provider is a local Google
              stand-in: N identical searches and N identical reverse
              look-ups (all but the first from the Redis cache), then N/4
              distinct searches (each to the provider), C in flight:
              p50/p99 of each. Defaults: 2000 requests, 8 in flight.

city          N transporters (1-2 trucks and a driver each) go online and
              answer broadcasts; customers book R orders/s for S seconds;
              drivers accept (or decline, or time out) and run trips on an
              accelerated clock. Prints progress, then a JSON report; writes
              --report (sim-report.json) and --chart (sim-latency.svg).
              --spawn starts a server on a fresh database (the invariants are
              then checked in PostgreSQL). Other options: --drain-seconds,
              --hold-probability, --think-ms, --decline-rate, --timeout-rate,
              --stage-ms, --fixes-per-trip, --database-url, --server-pid, --tag.
              --push-stand-in: the spawned server pushes through FCM HTTP v1
              to a local stand-in, and the drivers run as the shipped app
              does (no socket: trips by push, fixes by tracking/batch); the
              report adds the pushes and their commit → arrival latency.
              --rate-share (0.6): customers rate their trips after
              booking_completed; the invariants check every driver's
              average against the ratings rows. --cancel-share (0.02):
              customers cancel at each stage (searching, driver accepted,
              at the pickup, loaded); every cancel must have its ledger row.
              Defaults: 200 transporters, 2 orders/s, 60 s.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("city") => city::run(city::Plan::parse(&args[1..])?).await,
        Some("bench-sockets") => {
            bench_sockets::run(bench_sockets::Options::parse(&args[1..])?).await
        }
        Some("bench-dispatch") => {
            bench_dispatch::run(bench_dispatch::Options::parse(&args[1..])?).await
        }
        Some("bench-tracking") => {
            bench_tracking::run(bench_tracking::Options::parse(&args[1..])?).await
        }
        Some("bench-orders") => bench_orders::run(bench_orders::Options::parse(&args[1..])?).await,
        Some("bench-places") => bench_places::run(bench_places::Options::parse(&args[1..])?).await,
        Some("bench-geo") => bench_geo::run(bench_geo::Options::parse(&args[1..])?).await,
        Some("bench-heartbeats") => {
            bench_heartbeats::run(bench_heartbeats::Options::parse(&args[1..])?).await
        }
        _ => {
            println!("{USAGE}");
            Ok(())
        }
    }
}
