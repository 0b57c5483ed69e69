//! `bench-tracking`: GPS ingest. K trips are set up through the apps' API
//! (transporter i alone near order i's pickup holds and confirms it, its
//! driver accepts and drives to `in_transit`); then fixes are pushed as fast
//! as the load tool can, first through `POST tracking/batch` (C in flight,
//! B points each), then through the drivers' sockets (`update_location`).
//! Reports points accepted per second for each path and the batch p99;
//! socket points are counted as rows landed in `trip_points`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::city::fleet::{driver_login, login, truck_and_driver};
use crate::city::metrics::{Api, Metrics};
use crate::city::plan::Plan;
use crate::socket::Socket;
use crate::spawn::Spawned;
use crate::stats::{ms, percentile};

/// Options.
#[derive(clap::Parser)]
#[command(about = "GPS ingest through tracking/batch and the drivers' sockets")]
pub struct Options {
    /// Trips set up through the API (1–400).
    #[arg(long, default_value_t = 200)]
    trips: usize,
    /// Batches in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Points per batch (1–1000).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Seconds each way.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
}

impl Options {
    /// `--trips`, `--concurrency`, `--batch`, `--seconds` (always spawns).
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let options: Self = crate::flags::parse("bench-tracking", args);
        if !(1..=400).contains(&options.trips) || !(1..=1000).contains(&options.batch) {
            bail!("--trips must be 1..=400 and --batch 1..=1000");
        }
        Ok(options)
    }
}

/// One trip on the road: its id, its driver's token and socket.
struct Trip {
    id: String,
    driver: String,
    socket: Socket,
    /// The next fix's time, ms (each path moves it forward).
    cursor: std::sync::Mutex<i64>,
}

/// Where trip `i` starts: a grid 10 km apart, so only its transporter is near.
fn spot(i: usize) -> (f64, f64) {
    (18.5 + (i / 20) as f64 * 0.1, 73.0 + (i % 20) as f64 * 0.1)
}

async fn ok(
    api: &Api,
    route: &'static str,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let key = Uuid::new_v4().to_string();
    let (status, answer) = api
        .call(route, method, path, Some(token), Some(body), Some(&key))
        .await?;
    if !status.is_success() {
        bail!("{route}: {status} {answer}");
    }
    Ok(answer)
}

/// Sets trip `i` up end to end through the API.
async fn trip(api: Api, plan: Arc<Plan>, i: usize) -> anyhow::Result<Trip> {
    let at = spot(i);
    let transporter = login(&api, &plan.transporter_phone(i), "transporter").await?;
    let (vehicle, driver_id, driver_phone) =
        truck_and_driver(&api, &plan, &transporter, i, 0, 0).await?;
    let driver = driver_login(&api, &driver_phone).await?;
    ok(
        &api,
        "driver/availability",
        Method::PUT,
        "driver/availability",
        &driver,
        &json!({ "isOnline": true }),
    )
    .await?;
    ok(
        &api,
        "transporter/availability",
        Method::PUT,
        "transporter/availability",
        &transporter,
        &json!({ "isAvailable": true }),
    )
    .await?;
    ok(
        &api,
        "transporter/heartbeat",
        Method::POST,
        "transporter/heartbeat",
        &transporter,
        &json!({ "latitude": at.0, "longitude": at.1 }),
    )
    .await?;
    let customer = login(&api, &plan.customer_phone(i), "customer").await?;
    let order = json!({
        "pickup": { "latitude": at.0 + 0.001, "longitude": at.1, "address": "Pickup" },
        "drop": { "latitude": at.0 + 0.05, "longitude": at.1 + 0.05, "address": "Drop" },
        "distanceKm": 8,
        "vehicleRequirements": [{ "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 1, "pricePerTruck": 3000 }],
    });
    let created = ok(
        &api,
        "bookings/orders",
        Method::POST,
        "bookings/orders",
        &customer,
        &order,
    )
    .await?;
    let order_id = created["data"]["order"]["id"]
        .as_str()
        .context("no order id")?;
    let hold = json!({ "orderId": order_id, "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 1 });
    let held = ok(
        &api,
        "truck-hold/hold",
        Method::POST,
        "truck-hold/hold",
        &transporter,
        &hold,
    )
    .await?;
    let confirm = json!({ "holdId": held["data"]["holdId"], "assignments": [{ "vehicleId": vehicle, "driverId": driver_id }] });
    let made = ok(
        &api,
        "truck-hold/confirm-with-assignments",
        Method::POST,
        "truck-hold/confirm-with-assignments",
        &transporter,
        &confirm,
    )
    .await?;
    let assignment = made["data"]["assignmentIds"][0]
        .as_str()
        .context("no assignment")?;
    let trip_id = made["data"]["tripIds"][0]
        .as_str()
        .context("no trip")?
        .to_owned();
    ok(
        &api,
        "assignments/accept",
        Method::PATCH,
        &format!("assignments/{assignment}/accept"),
        &driver,
        &json!({}),
    )
    .await?;
    for word in ["at_pickup", "loading_complete", "in_transit"] {
        ok(
            &api,
            "tracking/trip/status",
            Method::PUT,
            &format!("tracking/trip/{trip_id}/status"),
            &driver,
            &json!({ "status": word }),
        )
        .await?;
    }
    let (events_in, mut events) = mpsc::unbounded_channel();
    let socket = Socket::connect(api.base(), &driver, events_in).await?;
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let start_ms = chrono_now_ms() - 30 * 60 * 1000;
    Ok(Trip {
        id: trip_id,
        driver,
        socket,
        cursor: std::sync::Mutex::new(start_ms),
    })
}

fn chrono_now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The next `n` fixes of `trip`, 10 ms apart.
fn fixes(trip: &Trip, n: usize, with_trip: bool) -> Vec<Value> {
    let mut cursor = trip
        .cursor
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (0..n)
        .map(|_| {
            *cursor += 10;
            let step = (*cursor % 100_000) as f64 * 1e-7;
            let mut fix = json!({ "latitude": 19.0 + step, "longitude": 73.0 + step, "speed": 12.0, "bearing": 90.0, "timestamp": iso(*cursor) });
            if with_trip {
                fix["tripId"] = json!(trip.id);
            }
            fix
        })
        .collect()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn stored(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    use diesel_async::RunQueryDsl;
    let row: Count = diesel::sql_query("SELECT count(*) AS n FROM trip_points")
        .get_result(conn)
        .await?;
    Ok(row.n)
}

/// Runs the profile and prints one JSON line.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let spawned = Spawned::start().await?;
    let metrics = Arc::new(Metrics::new());
    let api = Api::new(&spawned.url, metrics.clone())?;
    let plan = Arc::new(Plan::parse(&[])?);
    eprintln!(
        "bench-tracking: setting up {} trips through the API…",
        options.trips
    );
    let trips: Vec<Arc<Trip>> = futures_util::stream::iter(0..options.trips)
        .map(|i| trip(api.clone(), plan.clone(), i))
        .buffer_unordered(16)
        .filter_map(|r| async move {
            r.map_err(|error| eprintln!("trip setup: {error:#}"))
                .ok()
                .map(Arc::new)
        })
        .collect()
        .await;
    if trips.is_empty() {
        bail!("no trip could be set up");
    }
    let mut conn = AsyncPgConnection::establish(&spawned.database_url).await?;

    eprintln!(
        "bench-tracking: {} trips on the road; batches for {} s…",
        trips.len(),
        options.seconds
    );
    let accepted = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..options.concurrency)
        .map(|w| {
            let (api, trips, accepted) = (api.clone(), trips.clone(), accepted.clone());
            let (batch, concurrency) = (options.batch, options.concurrency);
            tokio::spawn(async move {
                // Each worker has its own trips, so a trip's batches stay in order.
                let mine: Vec<&Arc<Trip>> = trips
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % concurrency == w)
                    .map(|(_, trip)| trip)
                    .collect();
                let mut k = 0;
                while Instant::now() < deadline && !mine.is_empty() {
                    let trip = mine[k % mine.len()];
                    k += 1;
                    let body = json!({ "tripId": trip.id, "points": fixes(trip, batch, false) });
                    if let Ok((StatusCode::OK, answer)) = api
                        .call(
                            "tracking/batch",
                            Method::POST,
                            "tracking/batch",
                            Some(&trip.driver),
                            Some(&body),
                            None,
                        )
                        .await
                    {
                        let n = answer["data"]["accepted"].as_u64().unwrap_or(0);
                        accepted.fetch_add(usize::try_from(n).unwrap_or(0), Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let batch_secs = started.elapsed().as_secs_f64();
    let batch_points = accepted.load(Ordering::Relaxed);
    let mut latency = metrics.http().remove("tracking/batch").unwrap_or_default();
    latency.sort_unstable();

    eprintln!("bench-tracking: socket fixes for {} s…", options.seconds);
    let before = stored(&mut conn).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut sent = 0_usize;
    while Instant::now() < deadline {
        for trip in &trips {
            for fix in fixes(trip, 10, true) {
                if trip.socket.emit("update_location", &fix) {
                    sent += 1;
                }
            }
        }
        tokio::task::yield_now().await;
    }
    // Let the server's writer catch up, then count what landed.
    let mut landed = stored(&mut conn).await? - before;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = stored(&mut conn).await? - before;
        if now == landed {
            break;
        }
        landed = now;
    }
    let socket_secs = started.elapsed().as_secs_f64() - 0.5;
    println!(
        "{}",
        json!({
            "profile": "bench-tracking",
            "trips": trips.len(),
            "batchConcurrency": options.concurrency,
            "pointsPerBatch": options.batch,
            "batchPointsAccepted": batch_points,
            "batchPointsPerSecond": (batch_points as f64 / batch_secs).round(),
            "batchP50Ms": ms(percentile(&latency, 50.0)),
            "batchP99Ms": ms(percentile(&latency, 99.0)),
            "socketFixesSent": sent,
            "socketFixesStored": landed,
            "socketPointsPerSecond": (landed as f64 / socket_secs).round(),
            "server5xx": AtomicU64::load(&metrics.server_errors, Ordering::Relaxed),
            "serverRssMiB": crate::city::report::rss_mib(spawned.pid()),
        })
    );
    Ok(())
}
