//! What the city run measures as it goes: HTTP latency per route and
//! errors by code, socket events, and each order's trace (created, first
//! broadcast, filled, how it ended), plus a timeline for the chart.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One order as the simulator saw it.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The customer who booked it.
    pub customer: usize,
    /// When the create answer arrived.
    pub created: Instant,
    /// When the first `new_broadcast` of it reached any transporter.
    pub first_broadcast: Option<Instant>,
    /// When the customer heard it was filled.
    pub filled: Option<Instant>,
    /// How it ended, as the customer heard it (`expired:REASON`,
    /// `cancelled`, `completed`).
    pub ended: Option<String>,
    /// The order went on after its window with the trucks it had.
    pub partly_expired: bool,
}

/// A point of the timeline: seconds since the start, series, milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Seconds since the run started.
    pub t: f64,
    /// Which series.
    pub series: Series,
    /// The value, ms.
    pub ms: f64,
}

/// The chart's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Series {
    /// Create answer received → first `new_broadcast` anywhere.
    FirstBroadcast,
    /// `POST bookings/orders` round trip.
    CreateHttp,
    /// Create answer → filled.
    Filled,
}

/// What a hold answers when another transporter was faster: the race
/// settled as designed.
const LOST_HOLD_CODES: &[&str] = &[
    "TRUCK_NOT_AVAILABLE",
    "NOT_ENOUGH_AVAILABLE",
    "BROADCAST_EXPIRED",
];

/// Everything measured, shared by every actor.
pub struct Metrics {
    started: Instant,
    http: Mutex<HashMap<&'static str, Vec<Duration>>>,
    errors: Mutex<HashMap<String, u64>>,
    /// Holds another transporter won first (the race working, not a fault).
    lost_holds: Mutex<HashMap<String, u64>>,
    orders: Mutex<HashMap<String, Trace>>,
    /// Broadcasts that beat their create answer back to the simulator.
    early: Mutex<HashMap<String, Instant>>,
    timeline: Mutex<Vec<Sample>>,
    /// Socket events received.
    pub socket_events: AtomicU64,
    /// Sockets connected now.
    pub sockets: AtomicU64,
    /// 5xx answers.
    pub server_errors: AtomicU64,
    /// The app-style retries and their recoveries.
    pub retries: super::retry::Retries,
}

impl Metrics {
    /// An empty record starting now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            http: Mutex::new(HashMap::new()),
            errors: Mutex::new(HashMap::new()),
            lost_holds: Mutex::new(HashMap::new()),
            orders: Mutex::new(HashMap::new()),
            early: Mutex::new(HashMap::new()),
            timeline: Mutex::new(Vec::new()),
            socket_events: AtomicU64::new(0),
            sockets: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            retries: super::retry::Retries::default(),
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn sample(&self, series: Series, duration: Duration) {
        let t = self.elapsed();
        locked(&self.timeline).push(Sample {
            t,
            series,
            ms: duration.as_secs_f64() * 1000.0,
        });
    }

    /// Counts an error by its code; a hold refused because the trucks
    /// were taken first is a lost hold, not an error.
    pub fn error(&self, code: &str) {
        let lost = LOST_HOLD_CODES
            .iter()
            .any(|lost| code == format!("truck-hold/hold:{lost}"));
        let counts = if lost { &self.lost_holds } else { &self.errors };
        *locked(counts).entry(code.to_owned()).or_insert(0) += 1;
    }

    /// Lost holds by code.
    pub fn lost_holds(&self) -> HashMap<String, u64> {
        locked(&self.lost_holds).clone()
    }

    /// A new order.
    pub fn created(&self, order: &str, customer: usize, http: Duration) {
        self.sample(Series::CreateHttp, http);
        let early = locked(&self.early).remove(order);
        locked(&self.orders).insert(
            order.to_owned(),
            Trace {
                customer,
                created: Instant::now(),
                first_broadcast: None,
                filled: None,
                ended: None,
                partly_expired: false,
            },
        );
        if let Some(at) = early {
            self.broadcast(order, at);
        }
    }

    /// A `new_broadcast` of `order` arrived at `at`.
    pub fn broadcast(&self, order: &str, at: Instant) {
        let latency = {
            let mut orders = locked(&self.orders);
            let Some(trace) = orders.get_mut(order) else {
                locked(&self.early).entry(order.to_owned()).or_insert(at);
                return;
            };
            if trace.first_broadcast.is_some() {
                return;
            }
            trace.first_broadcast = Some(at);
            at.saturating_duration_since(trace.created)
        };
        self.sample(Series::FirstBroadcast, latency);
    }

    /// The customer heard `order` is filled.
    pub fn filled(&self, order: &str, at: Instant) {
        let latency = {
            let mut orders = locked(&self.orders);
            let Some(trace) = orders.get_mut(order).filter(|t| t.filled.is_none()) else {
                return;
            };
            trace.filled = Some(at);
            at.saturating_duration_since(trace.created)
        };
        self.sample(Series::Filled, latency);
    }

    /// The customer heard how `order` ended.
    pub fn ended(&self, order: &str, how: String) {
        if let Some(trace) = locked(&self.orders).get_mut(order) {
            trace.ended.get_or_insert(how);
        }
    }

    /// The order's window ended with some trucks: it goes on.
    pub fn partly_expired(&self, order: &str) {
        if let Some(trace) = locked(&self.orders).get_mut(order) {
            trace.partly_expired = true;
        }
    }

    /// A copy of every trace.
    pub fn traces(&self) -> HashMap<String, Trace> {
        locked(&self.orders).clone()
    }

    /// A copy of the timeline.
    pub fn timeline(&self) -> Vec<Sample> {
        locked(&self.timeline).clone()
    }

    /// HTTP latencies per route.
    pub fn http(&self) -> HashMap<&'static str, Vec<Duration>> {
        locked(&self.http).clone()
    }

    /// Errors by code.
    pub fn errors(&self) -> HashMap<String, u64> {
        locked(&self.errors).clone()
    }

    /// One progress line.
    pub fn progress(&self) -> String {
        let orders = locked(&self.orders);
        let filled = orders.values().filter(|t| t.filled.is_some()).count();
        let expired = orders
            .values()
            .filter(|t| t.ended.as_deref().is_some_and(|e| e.starts_with("expired")))
            .count();
        let completed = orders
            .values()
            .filter(|t| t.ended.as_deref() == Some("completed"))
            .count();
        let errors: u64 = locked(&self.errors).values().sum();
        let lost: u64 = locked(&self.lost_holds).values().sum();
        format!(
            "t={:>4.0}s orders {} created / {} filled / {} expired / {} completed | sockets {} | events {} | lost holds {lost} | errors {} (5xx {})",
            self.elapsed(),
            orders.len(),
            filled,
            expired,
            completed,
            self.sockets.load(Ordering::Relaxed),
            self.socket_events.load(Ordering::Relaxed),
            errors,
            self.server_errors.load(Ordering::Relaxed),
        )
    }
}

/// HTTP in the apps' shapes, measured per route.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    metrics: std::sync::Arc<Metrics>,
    /// Where the server's pushes land, with `--push-stand-in`.
    push: Option<std::sync::Arc<crate::push_stand_in::PushStandIn>>,
}

/// A call's outcome: status and body.
pub type Answer = (StatusCode, Value);

impl Api {
    /// Calls against `base`.
    pub fn new(base: &str, metrics: std::sync::Arc<Metrics>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            metrics,
            push: None,
        })
    }

    /// These calls, with the server's pushes landing at `push`.
    pub fn with_push(mut self, push: std::sync::Arc<crate::push_stand_in::PushStandIn>) -> Self {
        self.push = Some(push);
        self
    }

    /// The push stand-in, with `--push-stand-in`.
    pub fn push(&self) -> Option<&crate::push_stand_in::PushStandIn> {
        self.push.as_deref()
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The shared metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// `method /api/v1/{path}` under the route name `route`, with an
    /// optional token, body and idempotency key. Non-2xx answers are
    /// counted by their `error.code`.
    pub async fn call(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> anyhow::Result<Answer> {
        Ok(self.timed(route, method, path, token, body, key).await?.0)
    }

    /// [`Api::call`], also returning how long it took.
    pub async fn timed(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> anyhow::Result<(Answer, Duration)> {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1/{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("X-Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = Instant::now();
        let response = request.send().await.context(route);
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                self.metrics.error("TRANSPORT");
                return Err(error);
            }
        };
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let took = started.elapsed();
        locked(&self.metrics.http)
            .entry(route)
            .or_default()
            .push(took);
        if status.is_server_error() {
            self.metrics.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        if !status.is_success() {
            let code = body["error"]["code"]
                .as_str()
                .map_or_else(|| status.as_u16().to_string(), str::to_owned);
            self.metrics.error(&format!("{route}:{code}"));
        }
        Ok(((status, body), took))
    }
}
