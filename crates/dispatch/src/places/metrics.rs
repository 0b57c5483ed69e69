//! The places figures: calls per operation and outcome (served by the
//! provider, from the cache, or by the embedded fallback and why), quota
//! errors per provider, and the provider's latency.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The places metrics of one instance. Cheap to clone.
#[derive(Clone)]
pub struct PlacesMetrics {
    /// Calls per `op` (search, reverse, route) and `outcome`.
    pub calls: IntCounterVec,
    /// Quota answers (429, `OVER_QUERY_LIMIT`) per provider.
    pub quota_errors: IntCounterVec,
    /// One provider call, per `op`.
    pub latency: HistogramVec,
}

impl PlacesMetrics {
    /// The metrics, not yet registered anywhere.
    pub fn new() -> Result<Self, prometheus::Error> {
        Ok(Self {
            calls: IntCounterVec::new(
                Opts::new(
                    "places_calls_total",
                    "Place searches, reverse look-ups and routes, per op and outcome \
                     (provider, cache, embedded, fallback_timeout, fallback_unavailable, \
                     fallback_quota, fallback_refused, fallback_breaker_open)",
                ),
                &["op", "outcome"],
            )?,
            quota_errors: IntCounterVec::new(
                Opts::new(
                    "places_quota_errors_total",
                    "A maps provider's quota answers, per provider",
                ),
                &["provider"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "places_provider_latency_seconds",
                    "One call to the maps provider",
                )
                .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
                &["op"],
            )?,
        })
    }

    /// Registers every metric in `registry`.
    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.calls.clone()))?;
        registry.register(Box::new(self.quota_errors.clone()))?;
        registry.register(Box::new(self.latency.clone()))?;
        Ok(())
    }
}
