//! `bench-orders`: create-order throughput and latency with distinct
//! customers. Logins happen first and are not measured; then every customer
//! creates one order, `concurrency` requests in flight at a time.

use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::stream::{self, StreamExt};
use serde_json::json;

use crate::client::{login_customer, order_body};
use crate::stats::{ms, percentile};

/// Command-line options.
#[derive(clap::Parser)]
#[command(about = "Order creation throughput and latency")]
pub struct Options {
    /// The server (it must expose OTPs: local configuration).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Customers, each creating one order.
    #[arg(long, default_value_t = 4000)]
    customers: usize,
    /// Creates at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// The first customer's number (a second run on the same server takes
    /// other customers).
    #[arg(long, default_value_t = 0)]
    first_customer: u64,
}

impl Options {
    /// Parses `--url`, `--customers`, `--concurrency`, `--first-customer`.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options: Self = crate::flags::parse("bench-orders", args);
        options.url = options.url.trim_end_matches('/').to_owned();
        if options.customers == 0
            || options.concurrency == 0
            || options.first_customer + options.customers as u64 > 900_000
        {
            bail!(
                "--customers must be at least 1, --first-customer + --customers at most 900000 and --concurrency at least 1"
            );
        }
        Ok(options)
    }
}

/// Runs the benchmark and prints one JSON line.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let base = options.url.as_str();
    // Phones 6000000000 + n: distinct customers, valid Indian mobile numbers.
    let phones: Vec<String> = (0..options.customers as u64)
        .map(|n| format!("{}", 6_000_000_000_u64 + options.first_customer + n))
        .collect();
    let started = Instant::now();
    let tokens: Vec<String> = stream::iter(phones.iter())
        .map(|phone| login_customer(&client, base, phone))
        .buffer_unordered(options.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let login_secs = started.elapsed().as_secs_f64();

    let body = order_body(2);
    let started = Instant::now();
    let results: Vec<(u16, Duration)> = stream::iter(tokens.iter())
        .map(|token| {
            let (client, body) = (&client, &body);
            async move {
                let sent = Instant::now();
                let status = client
                    .post(format!("{base}/api/v1/bookings/orders"))
                    .bearer_auth(token)
                    .header("X-Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(body)
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
                    .unwrap_or(0);
                (status, sent.elapsed())
            }
        })
        .buffer_unordered(options.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let created = results.iter().filter(|(status, _)| *status == 201).count();
    let mut latencies: Vec<Duration> = results.iter().map(|(_, latency)| *latency).collect();
    latencies.sort();
    let report = json!({
        "profile": "bench-orders",
        "customers": options.customers,
        "concurrency": options.concurrency,
        "created": created,
        "failed": results.len() - created,
        "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "createsPerSecond": (created as f64 / elapsed.as_secs_f64()).round(),
        "p50Ms": ms(percentile(&latencies, 50.0)),
        "p99Ms": ms(percentile(&latencies, 99.0)),
        "maxMs": ms(percentile(&latencies, 100.0)),
        "loginSeconds": (login_secs * 1000.0).round() / 1000.0,
    });
    println!("{report}");
    if created != results.len() {
        bail!("{} creates failed", results.len() - created);
    }
    Ok(())
}
