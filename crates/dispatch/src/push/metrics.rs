//! The push figures: sent, failed, retried and dropped per type, skipped
//! (a live socket, no token, an answer window already closed), tokens
//! pruned, the provider's latency and the delay from commit to the
//! provider taking it, and how soon transporters acknowledge an offer.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

const LATENCY_BUCKETS_S: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The push metrics of one instance. Cheap to clone.
#[derive(Clone)]
pub struct PushMetrics {
    /// Pushes the provider took, per type.
    pub sent: IntCounterVec,
    /// Pushes the provider refused for good, per type.
    pub failed: IntCounterVec,
    /// Attempts that will be tried again, per type.
    pub retried: IntCounterVec,
    /// Pushes given up at their deadline, per type.
    pub dropped: IntCounterVec,
    /// Jobs with nothing to send, per reason.
    pub skipped: IntCounterVec,
    /// Device tokens deleted because the provider said they are gone.
    pub tokens_pruned: IntCounter,
    /// How long one send to the provider took.
    pub provider_latency: Histogram,
    /// From the event's commit to the provider taking its push.
    pub delivery_latency: Histogram,
    /// From an offer to the transporter's app acknowledging it, per path.
    pub ack_latency: HistogramVec,
}

impl PushMetrics {
    /// The metrics, not yet registered anywhere.
    pub fn new() -> Result<Self, prometheus::Error> {
        let per_type =
            |name: &str, help: &str| IntCounterVec::new(Opts::new(name, help), &["type"]);
        let seconds = |name: &str, help: &str| {
            HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS_S.to_vec())
        };
        Ok(Self {
            sent: per_type("push_sent_total", "Pushes the provider took, per type")?,
            failed: per_type(
                "push_failed_total",
                "Pushes the provider refused for good, per type",
            )?,
            retried: per_type(
                "push_retried_total",
                "Push attempts to be tried again, per type",
            )?,
            dropped: per_type(
                "push_dropped_total",
                "Pushes given up at their deadline, per type",
            )?,
            skipped: IntCounterVec::new(
                Opts::new(
                    "push_skipped_total",
                    "Push jobs with nothing to send: live_socket, no_token, window_closed",
                ),
                &["reason"],
            )?,
            tokens_pruned: IntCounter::new(
                "push_tokens_pruned_total",
                "Device tokens deleted because the provider said they are no longer valid",
            )?,
            provider_latency: Histogram::with_opts(seconds(
                "push_provider_latency_seconds",
                "One send to the push provider",
            ))?,
            delivery_latency: Histogram::with_opts(seconds(
                "push_delivery_latency_seconds",
                "From the event's commit to the push provider taking it",
            ))?,
            ack_latency: HistogramVec::new(
                seconds(
                    "broadcast_ack_latency_seconds",
                    "From an offer to the transporter's app acknowledging it",
                ),
                &["source"],
            )?,
        })
    }

    /// Registers every metric in `registry`.
    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.sent.clone()))?;
        registry.register(Box::new(self.failed.clone()))?;
        registry.register(Box::new(self.retried.clone()))?;
        registry.register(Box::new(self.dropped.clone()))?;
        registry.register(Box::new(self.skipped.clone()))?;
        registry.register(Box::new(self.tokens_pruned.clone()))?;
        registry.register(Box::new(self.provider_latency.clone()))?;
        registry.register(Box::new(self.delivery_latency.clone()))?;
        registry.register(Box::new(self.ack_latency.clone()))?;
        Ok(())
    }
}
