//! `weelo-sim city`: a city in a box. Transporters with trucks and drivers
//! go online and answer broadcasts, customers book at a set rate, drivers
//! run trips on an accelerated clock; everything goes through the server's
//! HTTP API and Socket.IO exactly as the apps do. A progress line shows the
//! run; the report (JSON) and a latency chart (SVG) come at the end, with
//! the invariants checked in PostgreSQL. Violations or 5xx answers make the
//! run fail.

pub mod customers;
pub mod fleet;
pub mod metrics;
pub mod plan;
pub mod report;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::chart::{self, Line};
use crate::push_stand_in::PushStandIn;
use crate::spawn::Spawned;
use metrics::{Api, Metrics, Series};
pub use plan::Plan;

/// Runs the city.
pub async fn run(mut plan: Plan) -> anyhow::Result<()> {
    let push = if plan.push_stand_in {
        let push = Arc::new(PushStandIn::start().await?);
        eprintln!(
            "push stand-in at {} ({})",
            push.url,
            push.credentials.display()
        );
        if !plan.spawn {
            eprintln!(
                "--url: start that server with {}",
                push.env()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        Some(push)
    } else {
        None
    };
    let spawned = if plan.spawn {
        let overrides = push.as_ref().map(|p| p.env()).unwrap_or_default();
        let spawned = Spawned::start_with(&overrides).await?;
        plan.url = spawned.url.clone();
        plan.database_url = Some(spawned.database_url.clone());
        plan.server_pid = Some(spawned.pid());
        eprintln!(
            "spawned weelo-server at {} (pid {})",
            spawned.url,
            spawned.pid()
        );
        Some(spawned)
    } else {
        None
    };
    let plan = Arc::new(plan);
    let metrics = Arc::new(Metrics::new());
    let mut api = Api::new(&plan.url, metrics.clone())?;
    if let Some(push) = &push {
        api = api.with_push(push.clone());
    }
    let (stop_all, all_stopped) = watch::channel(false);
    let (stop_booking, booking_stopped) = watch::channel(false);

    eprintln!(
        "setting up {} transporters with their trucks and drivers…",
        plan.transporters
    );
    let (ready_in, mut ready) = mpsc::unbounded_channel();
    let setups = Arc::new(tokio::sync::Semaphore::new(64));
    for n in 0..plan.transporters {
        let (api, plan, stop, ready_in, setups) = (
            api.clone(),
            plan.clone(),
            all_stopped.clone(),
            ready_in.clone(),
            setups.clone(),
        );
        tokio::spawn(async move {
            let permit = setups.acquire_owned().await;
            let (released_in, released) = mpsc::unbounded_channel();
            let waiter = tokio::spawn(async move {
                let mut released = released;
                let ok = released.recv().await.unwrap_or(false);
                drop(permit);
                let _ = ready_in.send(ok);
            });
            let failed = released_in.clone();
            if let Err(error) = fleet::transporter(api.clone(), plan, n, stop, released_in).await {
                api.metrics().error("transporter-setup");
                eprintln!("transporter {n}: {error:#}");
                let _ = failed.send(false);
            }
            let _ = waiter.await;
        });
    }
    drop(ready_in);
    let mut online = 0;
    for _ in 0..plan.transporters {
        if ready.recv().await == Some(true) {
            online += 1;
        }
    }
    eprintln!(
        "{online} transporters online; logging {} customers in…",
        plan.customers()
    );
    let pool = customers::log_in(&api, &plan, &all_stopped).await?;

    let progress = {
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                eprintln!("{}", metrics.progress());
            }
        })
    };
    let booking = {
        let (api, plan) = (api.clone(), plan.clone());
        tokio::spawn(async move { customers::book_until(api, &plan, &pool, booking_stopped).await })
    };
    tokio::time::sleep(Duration::from_secs(plan.seconds)).await;
    let _ = stop_booking.send(true);
    let _ = booking.await;
    eprintln!(
        "booking stopped; waiting up to {} s for every order to end…",
        plan.drain_seconds
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(plan.drain_seconds);
    while tokio::time::Instant::now() < deadline {
        let open = metrics
            .traces()
            .values()
            .filter(|t| t.ended.is_none())
            .count();
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let _ = stop_all.send(true);
    progress.abort();

    let orders: Vec<Uuid> = metrics
        .traces()
        .keys()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    let checks = match &plan.database_url {
        Some(url) => report::invariants(url, &orders)
            .await
            .context("invariant checks")?,
        None => Default::default(),
    };
    let unheard: Vec<Uuid> = metrics
        .traces()
        .iter()
        .filter(|(_, t)| t.ended.is_none())
        .filter_map(|(id, _)| Uuid::parse_str(id).ok())
        .take(20)
        .collect();
    let trails = match &plan.database_url {
        Some(url) => report::trails(url, &unheard).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let rss = plan.server_pid.and_then(report::rss_mib);
    let mut summary = report::build(&plan, &metrics, &checks, rss, &trails);
    if let Some(push) = &push {
        summary["push"] = serde_json::json!({
            "received": push.received(),
            "commitToArrival": report::summary(push.latencies()),
        });
    }
    std::fs::write(&plan.report, serde_json::to_string_pretty(&summary)?)?;
    std::fs::write(&plan.chart, latency_chart(&metrics, &plan, &summary))?;
    println!("{summary}");
    eprintln!("report: {}  chart: {}", plan.report, plan.chart);
    drop(spawned);
    let violations = summary["invariants"]["violations"]
        .as_array()
        .map_or(0, Vec::len);
    let server_errors = summary["server5xx"].as_u64().unwrap_or(0);
    if violations > 0 || server_errors > 0 {
        bail!(
            "{violations} invariant violations and {server_errors} 5xx answers: see {}",
            plan.report
        );
    }
    Ok(())
}

/// The run's outcome as the chart shows it under the latencies.
fn outcome_notes(summary: &serde_json::Value) -> Vec<String> {
    let orders = &summary["orders"];
    let ended: Vec<String> = orders["endedAs"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{v} {k}")).collect())
        .unwrap_or_default();
    let checked = summary["invariants"]["checked"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    let violations = summary["invariants"]["violations"]
        .as_array()
        .map_or(0, Vec::len);
    let lost: u64 = summary["lostHolds"].as_object().map_or(0, |m| {
        m.values().filter_map(serde_json::Value::as_u64).sum()
    });
    vec![
        format!(
            "orders: {} created, fill rate {:.1} % | ended as: {} | expired {}",
            orders["created"],
            orders["fillRate"].as_f64().unwrap_or(0.0) * 100.0,
            if ended.is_empty() {
                "-".to_owned()
            } else {
                ended.join(", ")
            },
            orders["expired"],
        ),
        format!(
            "invariants: {checked} checked in PostgreSQL, {violations} violated | lost holds {lost} | 5xx {}",
            summary["server5xx"]
        ),
    ]
}

fn latency_chart(metrics: &Metrics, plan: &Plan, summary: &serde_json::Value) -> String {
    let timeline = metrics.timeline();
    let of = |series: Series| -> Vec<(f64, f64)> {
        timeline
            .iter()
            .filter(|s| s.series == series)
            .map(|s| (s.t, s.ms))
            .collect()
    };
    let (broadcast_p50, broadcast_p99) = chart::bucketed(&of(Series::FirstBroadcast), 5.0);
    let (_, create_p99) = chart::bucketed(&of(Series::CreateHttp), 5.0);
    chart::svg(
        &format!(
            "weelo-sim city: {} transporters, {} orders/s",
            plan.transporters, plan.order_rate
        ),
        &[
            Line {
                label: "order → first broadcast, p50".to_owned(),
                colour: "#1f77b4",
                points: broadcast_p50,
            },
            Line {
                label: "order → first broadcast, p99".to_owned(),
                colour: "#d62728",
                points: broadcast_p99,
            },
            Line {
                label: "create (HTTP), p99".to_owned(),
                colour: "#2ca02c",
                points: create_p99,
            },
        ],
        &outcome_notes(summary),
    )
}
