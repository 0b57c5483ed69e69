//! `weelo-sim`: drives a running weelo-server over HTTP exactly as the apps
//! do. Today it has the load profiles of `make bench` (`bench-orders`,
//! `bench-geo`, `bench-heartbeats`); the city simulation comes with its issue.

mod bench_geo;
mod bench_heartbeats;
mod bench_orders;
mod client;
mod stats;

const USAGE: &str = "usage: weelo-sim bench-orders [--url URL] [--customers N] [--concurrency C]
       weelo-sim bench-geo [--points N] [--queries Q] [--redis URL]
       weelo-sim bench-heartbeats [--url URL] [--transporters N] [--seconds S] [--concurrency C]

bench-orders  logs N customers in (the server must expose OTPs: local config),
              then has each create one order, C at a time, and prints the
              create throughput and latency percentiles as one JSON line.
              Defaults: --url http://127.0.0.1:3000 --customers 4000 --concurrency 64
bench-geo     the k-nearest search (k 10, 5 km) on N points in a 40 km city,
              against Redis GEOSEARCH on the same points; prints both rates.
bench-heartbeats  N transporters online, then heartbeats as fast as C
              concurrent senders allow for S seconds; prints beats/s and p99.

The city simulation (transporters, drivers, trips) is not built yet.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench-orders") => bench_orders::run(bench_orders::Options::parse(&args[1..])?).await,
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
