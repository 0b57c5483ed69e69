//! `bench-places`: place look-ups over HTTP on a spawned server whose maps
//! provider is a local stand-in answering as Google's Places (New) and
//! Geocoding APIs do. The same search and the same reverse look-up are
//! asked N times, C in flight: every answer but the first comes from the
//! Redis cache (the stand-in counts what reached it); then N/4 distinct
//! searches go to the provider. Prints p50/p99 of each as one JSON line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::city::fleet::login;
use crate::city::metrics::{Api, Metrics};
use crate::spawn::Spawned;
use crate::stats::{ms, percentile};

/// Options.
#[derive(clap::Parser)]
#[command(about = "Place look-ups over HTTP, cached and through a provider stand-in")]
pub struct Options {
    /// Identical look-ups of each kind (4–100000).
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Requests in flight (1–256).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

impl Options {
    /// `--requests`, `--concurrency` (always spawns).
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let options: Self = crate::flags::parse("bench-places", args);
        if !(4..=100_000).contains(&options.requests) || !(1..=256).contains(&options.concurrency) {
            bail!("--requests must be 4..=100000 and --concurrency 1..=256");
        }
        Ok(options)
    }
}

/// Answers every request as Google would, counting them.
async fn stand_in(calls: Arc<AtomicU64>) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, calls.clone()));
        }
    });
    Ok(url)
}

async fn serve(stream: TcpStream, calls: Arc<AtomicU64>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if read.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if read.read_exact(&mut body).await.is_err() {
            return;
        }
        calls.fetch_add(1, Ordering::Relaxed);
        let path = request_line.split_whitespace().nth(1).unwrap_or("");
        let answer = if path.starts_with("/maps/api/geocode") {
            json!({ "status": "OK", "results": [{
                "formatted_address": "ITPL Main Rd, Whitefield, Bengaluru, Karnataka 560066, India",
                "address_components": [
                    { "long_name": "Bengaluru", "types": ["locality"] },
                    { "long_name": "Karnataka", "types": ["administrative_area_level_1"] }
                ]
            }]})
        } else {
            json!({ "places": [{
                "id": "ChIJ-bench",
                "displayName": { "text": "Whitefield" },
                "formattedAddress": "Whitefield, Bengaluru, Karnataka, India",
                "location": { "latitude": 12.9698, "longitude": 77.75 },
                "addressComponents": []
            }]})
        }
        .to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Asks `bodies` (path, body) `concurrency` at a time; each latency.
async fn timed(
    api: &Api,
    token: &str,
    bodies: Vec<(&'static str, Value)>,
    concurrency: usize,
) -> anyhow::Result<Vec<Duration>> {
    let results: Vec<anyhow::Result<Duration>> = futures_util::stream::iter(bodies)
        .map(|(path, body)| async move {
            let started = Instant::now();
            let (status, answer) = api
                .call(path, Method::POST, path, Some(token), Some(&body), None)
                .await?;
            if !status.is_success() {
                bail!("{path}: {status} {answer}");
            }
            Ok(started.elapsed())
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut times = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    times.sort_unstable();
    Ok(times)
}

/// Runs the profile.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let calls = Arc::new(AtomicU64::new(0));
    let google = stand_in(calls.clone()).await?;
    let spawned = Spawned::start_with(&[
        ("APP_MAPS__PROVIDER", "google".to_owned()),
        ("APP_MAPS__GOOGLE_API_KEY", "bench-places-key".to_owned()),
        ("APP_MAPS__GOOGLE_PLACES_URL", google.clone()),
        ("APP_MAPS__GOOGLE_GEOCODING_URL", google.clone()),
        ("APP_MAPS__GOOGLE_ROUTES_URL", google),
        ("APP_MAPS__CALLS_PER_MINUTE", "0".to_owned()),
    ])
    .await?;
    let api = Api::new(&spawned.url, Arc::new(Metrics::new()))?;
    let token = login(&api, "9000000001", "customer").await?;
    let n = options.requests;
    let search = json!({ "query": "Whitefield", "biasLat": 12.97, "biasLng": 77.59 });
    let reverse = json!({ "latitude": 12.9698, "longitude": 77.75 });
    eprintln!(
        "bench-places: {n} cached searches, {n} cached reverse look-ups, {} provider searches…",
        n / 4
    );
    let searches = timed(
        &api,
        &token,
        vec![("geocoding/search", search); n],
        options.concurrency,
    )
    .await?;
    let after_searches = calls.load(Ordering::Relaxed);
    let reverses = timed(
        &api,
        &token,
        vec![("geocoding/reverse", reverse); n],
        options.concurrency,
    )
    .await?;
    let after_reverses = calls.load(Ordering::Relaxed);
    let distinct = (0..n / 4)
        .map(|i| {
            (
                "geocoding/search",
                json!({ "query": format!("warehouse {i}") }),
            )
        })
        .collect();
    let provider = timed(&api, &token, distinct, options.concurrency).await?;
    println!(
        "{}",
        json!({
            "requests": n,
            "concurrency": options.concurrency,
            "cachedSearchP50Ms": ms(percentile(&searches, 0.50)),
            "cachedSearchP99Ms": ms(percentile(&searches, 0.99)),
            "cachedReverseP50Ms": ms(percentile(&reverses, 0.50)),
            "cachedReverseP99Ms": ms(percentile(&reverses, 0.99)),
            "providerSearchP50Ms": ms(percentile(&provider, 0.50)),
            "providerSearchP99Ms": ms(percentile(&provider, 0.99)),
            "providerCallsForCachedSearches": after_searches,
            "providerCallsForCachedReverses": after_reverses - after_searches,
        })
    );
    Ok(())
}
