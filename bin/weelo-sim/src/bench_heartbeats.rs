//! `bench-heartbeats`: heartbeat ingest through HTTP. N transporters log in,
//! register a truck and go online (not measured); then C concurrent senders
//! post beats round-robin over them for S seconds, the apps' body each time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

use crate::stats::{ms, percentile};

/// Options.
#[derive(clap::Parser)]
#[command(about = "Heartbeat ingest through HTTP")]
pub struct Options {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Transporters online (1–990000).
    #[arg(long, default_value_t = 2_000)]
    transporters: usize,
    /// How long beats are sent, seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Senders at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

impl Options {
    /// `--url`, `--transporters`, `--seconds`, `--concurrency`.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options: Self = crate::flags::parse("bench-heartbeats", args);
        options.url = options.url.trim_end_matches('/').to_owned();
        if options.transporters == 0 || options.transporters > 990_000 || options.concurrency == 0 {
            bail!("--transporters must be 1..=990000 and --concurrency at least 1");
        }
        Ok(options)
    }
}

async fn call(request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        bail!("{status}: {body}");
    }
    Ok(body)
}

/// Logs transporter `n` in, registers a truck and goes online; returns its token.
async fn prepare(client: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<String> {
    let phone = format!("{}", 7_000_000_000_u64 + n as u64);
    let sent = call(
        client
            .post(format!("{base}/api/v1/auth/send-otp"))
            .json(&json!({ "phone": phone, "role": "transporter" })),
    )
    .await?;
    let otp = sent["data"]["otp"]
        .as_str()
        .context("the server does not expose OTPs")?
        .to_owned();
    let login = call(
        client
            .post(format!("{base}/api/v1/auth/verify-otp"))
            .json(&json!({ "phone": phone, "otp": otp, "role": "transporter" })),
    )
    .await?;
    let token = login["data"]["tokens"]["accessToken"]
        .as_str()
        .context("no token")?
        .to_owned();
    let number = format!("DL{:02}AB{:04}", n / 10_000 + 1, n % 10_000);
    let truck =
        json!({ "vehicleNumber": number, "vehicleType": "open", "vehicleSubtype": "17 Feet" });
    call(
        client
            .put(format!("{base}/api/v1/vehicles/upsert"))
            .bearer_auth(&token)
            .json(&truck),
    )
    .await?;
    call(
        client
            .put(format!("{base}/api/v1/transporter/availability"))
            .bearer_auth(&token)
            .json(&json!({ "isAvailable": true })),
    )
    .await?;
    Ok(token)
}

/// Runs the ingest benchmark and prints one JSON line.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let base = options.url.clone();
    let tokens: Vec<String> = stream::iter(0..options.transporters)
        .map(|n| prepare(&client, &base, n))
        .buffer_unordered(options.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let senders = (0..options.concurrency).map(|_| {
        let (client, tokens, next, base) = (client.clone(), tokens.clone(), next.clone(), base.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0_usize;
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let token = &tokens[n % tokens.len()];
                let wobble = (n % 1000) as f64 / 100_000.0;
                let body = json!({ "latitude": 28.61 + wobble, "longitude": 77.20 + wobble, "vehicleId": null, "isOnTrip": false });
                let sent = Instant::now();
                let ok = client
                    .post(format!("{base}/api/v1/transporter/heartbeat"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                latencies.push(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        })
    });
    let mut latencies = Vec::new();
    let mut errors = 0;
    for handle in senders.collect::<Vec<_>>() {
        let (mut part, failed) = handle.await?;
        latencies.append(&mut part);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let report = json!({
        "profile": "bench-heartbeats",
        "transporters": options.transporters,
        "concurrency": options.concurrency,
        "beats": latencies.len(),
        "errors": errors,
        "beatsPerSecond": (latencies.len() as f64 / elapsed).round(),
        "p50Ms": ms(percentile(&latencies, 50.0)),
        "p99Ms": ms(percentile(&latencies, 99.0)),
    });
    println!("{report}");
    if errors > 0 {
        bail!("{errors} beats failed");
    }
    Ok(())
}
