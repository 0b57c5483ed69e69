//! `bench-sockets`: N WebSocket sockets of one customer on one server, then
//! one room event to all of them. Reports the server's resident memory per
//! socket, and the time from the cancel request to each socket reading its
//! `order_cancelled`, plus the CPU time the server and this tool spent on
//! that one delivery. The sockets are a [`Herd`]: one thread speaking
//! WebSocket and Engine.IO by hand (answering pings), so the load tool
//! costs little beside the server.

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::client::{login_customer, order_body};
use crate::herd::Herd;
use crate::spawn::Spawned;
use crate::stats::{ms, percentile};

/// Options.
#[derive(clap::Parser)]
#[command(about = "Many sockets on one instance: memory and one room event to all")]
pub struct Options {
    /// The server (with --pid; ignored with --spawn).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Start a server on a fresh database for the run.
    #[arg(long)]
    spawn: bool,
    /// The server's pid, for its memory.
    #[arg(long)]
    pid: Option<u32>,
    /// Sockets (1–60000).
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
}

impl Options {
    /// `--spawn` or `--url URL --pid PID`, `--sockets N`.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options: Self = crate::flags::parse("bench-sockets", args);
        options.url = options.url.trim_end_matches('/').to_owned();
        if options.sockets == 0 || options.sockets > 60_000 {
            bail!("--sockets must be 1..=60000");
        }
        if !options.spawn && options.pid.is_none() {
            bail!("give --spawn, or --pid with --url so the server's memory can be read");
        }
        Ok(options)
    }
}

/// The server's resident memory, KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .context("no VmRSS")
}

/// CPU time a process has used (user + system), from /proc (clock ticks of 10 ms).
fn cpu_ms(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .context("bad stat")?
        .1
        .split(' ')
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((ticks(11) + ticks(12)) * 10)
}

/// Runs the profile; prints one JSON line.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let spawned = if options.spawn {
        // One customer's sockets: the cap a real user meets (a sixth
        // socket closes the oldest) would close all but five of them.
        let room = (options.sockets + 1).to_string();
        let caps = [("APP_REALTIME__MAX_SOCKETS_PER_USER", room)];
        Some(Spawned::start_with(&caps).await?)
    } else {
        None
    };
    let (base, pid) = match &spawned {
        Some(server) => (server.url.clone(), server.pid()),
        None => (options.url.clone(), options.pid.context("--pid")?),
    };
    let client = reqwest::Client::new();
    let phone = format!("9{:09}", std::process::id() % 1_000_000_000);
    let token = login_customer(&client, &base, &phone).await?;
    let created: serde_json::Value = client
        .post(format!("{base}/api/v1/bookings/orders"))
        .bearer_auth(&token)
        .header("X-Idempotency-Key", format!("bench-sockets-{phone}"))
        .json(&order_body(1))
        .send()
        .await?
        .json()
        .await?;
    let order_id = created["data"]["order"]["id"]
        .as_str()
        .with_context(|| format!("no order: {created}"))?
        .to_owned();

    let rss_before = rss_kib(pid)?;
    let addr = base
        .trim_start_matches("http://")
        .to_socket_addrs()?
        .next()
        .with_context(|| format!("no address for {base}"))?;
    let herd = Herd::start(addr, &token, options.sockets, "order_cancelled");
    let connecting = Instant::now();
    while herd.connected() < options.sockets {
        if herd.ended() {
            herd.finish()?;
            bail!("the sockets ended before they all connected");
        }
        if connecting.elapsed() > Duration::from_secs(120) {
            bail!(
                "only {} of {} sockets connected within 120 s",
                herd.connected(),
                options.sockets
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = rss_kib(pid)?;

    let (server_cpu, tool_cpu) = (cpu_ms(pid)?, cpu_ms(std::process::id())?);
    let cancel_at = Instant::now();
    let cancel_at_wall = std::time::SystemTime::now();
    let cancelled = client
        .post(format!("{base}/api/v1/bookings/orders/{order_id}/cancel"))
        .bearer_auth(&token)
        .header("X-Idempotency-Key", format!("bench-sockets-cancel-{phone}"))
        .json(&json!({}))
        .send()
        .await?;
    let answered = cancel_at.elapsed();
    if !cancelled.status().is_success() {
        bail!("cancel failed: {}", cancelled.status());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while herd.heard() < options.sockets && Instant::now() < deadline && !herd.ended() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (server_cpu, tool_cpu) = (
        cpu_ms(pid)? - server_cpu,
        cpu_ms(std::process::id())? - tool_cpu,
    );
    let heard = herd.finish()?;
    let mut delays: Vec<Duration> = heard
        .arrivals
        .iter()
        .map(|at| at.duration_since(cancel_at))
        .collect();
    delays.sort_unstable();
    // The same arrivals from the event's own `serverTimeMs` (the relay
    // stamps it when it claims the committed event): the delivery alone,
    // without the cancel's transaction before it.
    let stamped_after = heard.text.as_deref().and_then(server_time_ms).map(|stamp| {
        let cancel_ms = cancel_at_wall
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64() * 1000.0);
        Duration::from_secs_f64(((stamp as f64) - cancel_ms).max(0.0) / 1000.0)
    });
    let from_stamp: Vec<Duration> = stamped_after
        .map(|offset| delays.iter().map(|d| d.saturating_sub(offset)).collect())
        .unwrap_or_default();
    let received = delays.len();
    let per_socket = (rss_connected.saturating_sub(rss_before)) as f64 / options.sockets as f64;
    println!(
        "{}",
        json!({
            "profile": "bench-sockets",
            "sockets": options.sockets,
            "received": received,
            "rssBeforeKiB": rss_before,
            "rssConnectedKiB": rss_connected,
            "rssPerSocketKiB": (per_socket * 10.0).round() / 10.0,
            "cancelAnswerMs": ms(answered),
            "deliveryFirstMs": delays.first().copied().map(ms),
            "deliveryP50Ms": ms(percentile(&delays, 50.0)),
            "deliveryP99Ms": ms(percentile(&delays, 99.0)),
            "deliveryMaxMs": delays.last().copied().map(ms),
            "fromServerStampP50Ms": (!from_stamp.is_empty()).then(|| ms(percentile(&from_stamp, 50.0))),
            "fromServerStampP99Ms": (!from_stamp.is_empty()).then(|| ms(percentile(&from_stamp, 99.0))),
            "serverCpuMs": server_cpu,
            "loadToolCpuMs": tool_cpu,
        })
    );
    drop(spawned);
    if received < options.sockets {
        bail!(
            "only {received} of {} sockets heard the event",
            options.sockets
        );
    }
    Ok(())
}

/// The `serverTimeMs` of an event as a socket read it (`42["name",{…}]`).
fn server_time_ms(text: &str) -> Option<i64> {
    let packet: serde_json::Value = serde_json::from_str(text.strip_prefix("42")?).ok()?;
    packet.get(1)?.get("serverTimeMs")?.as_i64()
}
