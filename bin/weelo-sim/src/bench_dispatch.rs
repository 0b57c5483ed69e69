//! `bench-dispatch`: dispatch fan-out and hold contention. T transporters
//! with one truck each are online (beating every 5 s) with a socket each;
//! customers book R orders/s of one truck for S seconds, and the time from
//! each create answer to the first `new_broadcast` of that order on any
//! transporter's socket is measured. Then every transporter that was told
//! of an order presses hold on it at once, for every order: holds per
//! second, and exactly one winner per order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::city::fleet::login;
use crate::city::metrics::{Api, Metrics};
use crate::city::plan::somewhere;
use crate::socket::Socket;
use crate::spawn::Spawned;
use crate::stats::{ms, percentile};

/// Options.
#[derive(clap::Parser)]
#[command(about = "Dispatch fan-out and hold contention on one server")]
pub struct Options {
    /// The server (ignored with --spawn).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Start a server on a fresh database for the run.
    #[arg(long)]
    spawn: bool,
    /// Transporters online with sockets (1–90000).
    #[arg(long, default_value_t = 5_000)]
    transporters: usize,
    /// Orders per second.
    #[arg(long = "order-rate", default_value_t = 100.0)]
    rate: f64,
    /// How long orders are booked, seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

impl Options {
    /// `--url` or `--spawn`, `--transporters`, `--order-rate`, `--seconds`.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options: Self = crate::flags::parse("bench-dispatch", args);
        options.url = options.url.trim_end_matches('/').to_owned();
        if options.transporters == 0 || options.transporters > 90_000 || options.rate <= 0.0 {
            bail!("--transporters must be 1..=90000 and --order-rate above 0");
        }
        Ok(options)
    }
}

/// Who was told of which order.
type Told = Arc<Mutex<HashMap<String, Vec<usize>>>>;

/// Transporter `n`: a truck, online, beating, listening. Returns its token
/// and keeps its socket alive in the spawned listener.
async fn transporter(api: Api, n: usize, told: Told, tag: u64) -> anyhow::Result<String> {
    let token = login(&api, &format!("7{tag:03}{:06}", n), "transporter").await?;
    let letters = n / 10_000;
    let plate = format!(
        "KA{:02}{}{}{:04}",
        10 + tag % 90,
        char::from(b'A' + u8::try_from(letters / 26 % 26).unwrap_or(0)),
        char::from(b'A' + u8::try_from(letters % 26).unwrap_or(0)),
        n % 10_000
    );
    let truck =
        json!({ "vehicleNumber": plate, "vehicleType": "open", "vehicleSubtype": "17 Feet" });
    api.call(
        "vehicles/upsert",
        Method::PUT,
        "vehicles/upsert",
        Some(&token),
        Some(&truck),
        None,
    )
    .await?;
    let online = json!({ "isAvailable": true });
    api.call(
        "transporter/availability",
        Method::PUT,
        "transporter/availability",
        Some(&token),
        Some(&online),
        None,
    )
    .await?;
    let at = somewhere(&mut rand::rng(), 0.1);
    let (events_in, mut events) = mpsc::unbounded_channel();
    let socket = Socket::connect(api.base(), &token, events_in).await?;
    let (beat_api, beat_token) = (api.clone(), token.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let beat = json!({ "latitude": at.0, "longitude": at.1 });
            let _ = beat_api
                .call(
                    "transporter/heartbeat",
                    Method::POST,
                    "transporter/heartbeat",
                    Some(&beat_token),
                    Some(&beat),
                    None,
                )
                .await;
        }
    });
    tokio::spawn(async move {
        let _socket = socket;
        while let Some(event) = events.recv().await {
            if event.name == "new_broadcast" {
                let order = event.data["orderId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                api.metrics().broadcast(&order, event.at);
                told.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(order)
                    .or_default()
                    .push(n);
            }
        }
    });
    Ok(token)
}

fn one_truck(rng: &mut impl Rng) -> Value {
    let pickup = somewhere(rng, 0.1);
    let drop = somewhere(rng, 0.3);
    json!({
        "pickup": { "latitude": pickup.0, "longitude": pickup.1, "address": "Pickup", "city": "Mumbai" },
        "drop": { "latitude": drop.0, "longitude": drop.1, "address": "Drop", "city": "Mumbai" },
        "distanceKm": 20,
        "vehicleRequirements": [{ "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 1, "pricePerTruck": 5000 }],
    })
}

/// Runs the profile and prints one JSON line.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let spawned = if options.spawn {
        Some(Spawned::start().await?)
    } else {
        None
    };
    let url = spawned
        .as_ref()
        .map_or(options.url.clone(), |s| s.url.clone());
    let metrics = Arc::new(Metrics::new());
    let api = Api::new(&url, metrics.clone())?;
    let told: Told = Arc::default();
    let tag = rand::rng().random_range(0..900);
    eprintln!(
        "bench-dispatch: {} transporters going online…",
        options.transporters
    );
    let tokens: HashMap<usize, String> = futures_util::stream::iter(0..options.transporters)
        .map(|n| {
            let (api, told) = (api.clone(), told.clone());
            async move { transporter(api, n, told, tag).await.map(|token| (n, token)) }
        })
        .buffer_unordered(64)
        .filter_map(|r| async move { r.ok() })
        .collect()
        .await;
    let orders = (options.rate * options.seconds as f64).ceil() as usize;
    eprintln!(
        "bench-dispatch: {} online; {orders} customers logging in…",
        tokens.len()
    );
    let customers: Vec<String> = futures_util::stream::iter(0..orders)
        .map(|n| {
            let api = api.clone();
            async move { login(&api, &format!("8{tag:03}{:06}", n), "customer").await }
        })
        .buffer_unordered(64)
        .filter_map(|r| async move { r.ok() })
        .collect()
        .await;
    eprintln!(
        "bench-dispatch: booking {} orders/s for {} s…",
        options.rate, options.seconds
    );
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / options.rate));
    let mut booked = Vec::new();
    for customer in customers {
        tick.tick().await;
        let (api, key) = (api.clone(), Uuid::new_v4().to_string());
        booked.push(tokio::spawn(async move {
            let body = one_truck(&mut rand::rng());
            let answer = api
                .timed(
                    "bookings/orders",
                    Method::POST,
                    "bookings/orders",
                    Some(&customer),
                    Some(&body),
                    Some(&key),
                )
                .await;
            if let Ok(((StatusCode::CREATED, created), took)) = answer {
                let order = created["data"]["order"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                api.metrics().created(&order, 0, took);
                return Some(order);
            }
            None
        }));
    }
    let mut order_ids = Vec::new();
    for handle in booked {
        if let Ok(Some(order)) = handle.await {
            order_ids.push(order);
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let traces = metrics.traces();
    let mut first: Vec<Duration> = traces
        .values()
        .filter_map(|t| {
            t.first_broadcast
                .map(|b| b.saturating_duration_since(t.created))
        })
        .collect();
    first.sort_unstable();

    // Everyone told presses hold on each order at once.
    let presses: Vec<(String, usize)> = {
        let told = told
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        order_ids
            .iter()
            .flat_map(|order| {
                told.get(order)
                    .into_iter()
                    .flatten()
                    .map(move |n| (order.clone(), *n))
            })
            .collect()
    };
    let tokens = Arc::new(tokens);
    let started = Instant::now();
    let outcomes: Vec<(String, StatusCode)> = futures_util::stream::iter(presses)
        .map(|(order, n)| {
            let (api, tokens) = (api.clone(), tokens.clone());
            async move {
                let body = json!({ "orderId": order, "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 1 });
                let token = tokens.get(&n).cloned().unwrap_or_default();
                let status = api
                    .call("truck-hold/hold", Method::POST, "truck-hold/hold", Some(&token), Some(&body), None)
                    .await
                    .map_or(StatusCode::INTERNAL_SERVER_ERROR, |(s, _)| s);
                (order, status)
            }
        })
        .buffer_unordered(128)
        .collect()
        .await;
    let hold_secs = started.elapsed().as_secs_f64();
    let mut winners: HashMap<&str, usize> = HashMap::new();
    for (order, status) in &outcomes {
        if *status == StatusCode::OK {
            *winners.entry(order.as_str()).or_insert(0) += 1;
        }
    }
    let contested = outcomes
        .iter()
        .map(|(o, _)| o.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let mut hold_latency = metrics.http().remove("truck-hold/hold").unwrap_or_default();
    hold_latency.sort_unstable();
    let rss = spawned
        .as_ref()
        .and_then(|s| crate::city::report::rss_mib(s.pid()));
    println!(
        "{}",
        json!({
            "transporters": tokens.len(),
            "ordersBooked": order_ids.len(),
            "ordersBroadcast": first.len(),
            "firstBroadcastP50Ms": ms(percentile(&first, 50.0)),
            "firstBroadcastP99Ms": ms(percentile(&first, 99.0)),
            "holdPresses": outcomes.len(),
            "holdsPerSecond": (outcomes.len() as f64 / hold_secs).round(),
            "holdP99Ms": ms(percentile(&hold_latency, 99.0)),
            "contestedOrders": contested,
            "ordersWithOneWinner": winners.values().filter(|w| **w == 1).count(),
            "ordersWithMoreThanOneWinner": winners.values().filter(|w| **w > 1).count(),
            "server5xx": metrics.server_errors.load(std::sync::atomic::Ordering::Relaxed),
            "errors": metrics.errors(),
            "serverRssMiB": rss,
        })
    );
    drop(spawned);
    Ok(())
}
