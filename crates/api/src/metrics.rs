//! The Prometheus registry behind `GET /metrics`: request counts and latency
//! histograms by method, route pattern and status (each label from a closed
//! set), the refusals of the SMS budget, the realtime limits at work, and
//! the vitals read at each scrape (pools, the relay's backlog, the
//! background loops' last passes).

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use weelo_dispatch::vitals::{PoolFigures, Vitals};
use weelo_realtime::limits::Guard;

use crate::ApiError;

/// Latency buckets in seconds: fine below 50 ms, where our targets are.
const LATENCY_BUCKETS_S: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The HTTP metrics of one instance.
#[derive(Clone)]
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    sms_budget_exhausted: IntCounter,
    realtime_refused: IntCounterVec,
    realtime_sessions: IntGauge,
    realtime: Arc<OnceLock<Arc<Guard>>>,
    vitals: VitalGauges,
}

/// The gauges [`Vitals`] are written into at each scrape.
#[derive(Clone)]
struct VitalGauges {
    pools: IntGaugeVec,
    outbox_unpublished: IntGauge,
    outbox_oldest: Gauge,
    loops: GaugeVec,
}

impl VitalGauges {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let gauges = Self {
            pools: IntGaugeVec::new(
                Opts::new(
                    "pool_connections",
                    "Connection pools (database, redis): open, idle, waiting callers, max",
                ),
                &["pool", "state"],
            )?,
            outbox_unpublished: IntGauge::new(
                "outbox_unpublished",
                "Events written but not yet published by the relay",
            )?,
            outbox_oldest: Gauge::new(
                "outbox_oldest_unpublished_seconds",
                "Age of the oldest event the relay has not published (its lag)",
            )?,
            loops: GaugeVec::new(
                Opts::new(
                    "loop_last_pass_timestamp_seconds",
                    "When each background loop last finished a pass (Unix seconds)",
                ),
                &["loop"],
            )?,
        };
        registry.register(Box::new(gauges.pools.clone()))?;
        registry.register(Box::new(gauges.outbox_unpublished.clone()))?;
        registry.register(Box::new(gauges.outbox_oldest.clone()))?;
        registry.register(Box::new(gauges.loops.clone()))?;
        Ok(gauges)
    }

    fn write(&self, vitals: &Vitals) {
        for (pool, figures) in [
            ("database", vitals.database_pool),
            ("redis", vitals.redis_pool),
        ] {
            let PoolFigures {
                size,
                idle,
                waiting,
                max,
            } = figures;
            for (state, value) in [
                ("open", size),
                ("idle", idle),
                ("waiting", waiting),
                ("max", max),
            ] {
                self.pools
                    .with_label_values(&[pool, state])
                    .set(i64::try_from(value).unwrap_or(i64::MAX));
            }
        }
        if let Some((count, oldest)) = vitals.outbox {
            self.outbox_unpublished.set(count);
            self.outbox_oldest.set(oldest);
        }
        for (name, at) in &vitals.loops {
            self.loops.with_label_values(&[name]).set(*at);
        }
    }
}

impl HttpMetrics {
    /// The registry behind `GET /metrics` (other parts register their
    /// figures in it).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Registers the metrics in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("weelo".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route and status",
            )
            .buckets(LATENCY_BUCKETS_S.to_vec()),
            &["method", "route", "status"],
        )?;
        let sms_budget_exhausted = IntCounter::new(
            "sms_budget_exhausted_total",
            "OTP sends refused because the service-wide SMS budget was spent",
        )?;
        registry.register(Box::new(sms_budget_exhausted.clone()))?;
        let realtime_refused = IntCounterVec::new(
            Opts::new(
                "realtime_refused_total",
                "Realtime limits at work: sessions refused, sockets replaced, \
                 client events dropped, flooding sockets closed",
            ),
            &["kind"],
        )?;
        let realtime_sessions = IntGauge::new(
            "realtime_sessions",
            "Engine.IO sessions open on this instance",
        )?;
        registry.register(Box::new(realtime_refused.clone()))?;
        registry.register(Box::new(realtime_sessions.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        let vitals = VitalGauges::new(&registry)?;
        Ok(Self {
            registry,
            requests,
            latency,
            sms_budget_exhausted,
            realtime_refused,
            realtime_sessions,
            realtime: Arc::default(),
            vitals,
        })
    }

    /// Counts one finished request. `route` is the matched pattern
    /// (`/api/v1/orders/{id}`), never the raw path, so labels stay bounded.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed_s: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(elapsed_s);
    }

    /// Counts an OTP send refused by the SMS budget.
    pub fn sms_budget_exhausted(&self) {
        self.sms_budget_exhausted.inc();
    }

    /// Reports the realtime server's limits with the other metrics.
    pub fn watch_realtime(&self, guard: Arc<Guard>) {
        let _ = self.realtime.set(guard);
    }

    /// Brings the realtime figures up to date (they are counted by the
    /// realtime server, which knows nothing of Prometheus).
    fn read_realtime(&self) {
        let Some(guard) = self.realtime.get() else {
            return;
        };
        let refusals = &guard.refusals;
        for (kind, count) in [
            ("sessions", &refusals.sessions),
            ("sockets_replaced", &refusals.sockets_replaced),
            ("events_dropped", &refusals.events_dropped),
            ("sockets_flooding", &refusals.sockets_flooding),
        ] {
            let counter = self.realtime_refused.with_label_values(&[kind]);
            let now = count.load(Ordering::Relaxed);
            counter.inc_by(now.saturating_sub(counter.get()));
        }
        self.realtime_sessions
            .set(i64::try_from(guard.sessions()).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition of every metric, with `vitals` just
    /// read.
    pub fn render(&self, vitals: &Vitals) -> Result<String, ApiError> {
        self.read_realtime();
        self.vitals.write(vitals);
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        String::from_utf8(buffer).map_err(|e| ApiError::internal(e.to_string()))
    }
}
