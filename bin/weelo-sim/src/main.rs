//! `weelo-sim`: drives a running weelo-server over HTTP exactly as the apps
//! do. Today it has one load profile, `bench-orders` (the order-create
//! benchmark of `make bench`); the city simulation comes with its issue.

mod bench_orders;
mod client;
mod stats;

const USAGE: &str = "usage: weelo-sim bench-orders [--url URL] [--customers N] [--concurrency C]

bench-orders  logs N customers in (the server must expose OTPs: local config),
              then has each create one order, C at a time, and prints the
              create throughput and latency percentiles as one JSON line.
              Defaults: --url http://127.0.0.1:3000 --customers 4000 --concurrency 64

The city simulation (transporters, drivers, trips) is not built yet.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench-orders") => bench_orders::run(bench_orders::Options::parse(&args[1..])?).await,
        _ => {
            println!("{USAGE}");
            Ok(())
        }
    }
}
