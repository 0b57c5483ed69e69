//! The `[orders]` section: the search window, the create limit and the
//! expiry jobs' rhythm.

use serde::Deserialize;

/// Order settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSettings {
    /// How long an order searches before it expires (the apps read `expiresIn`).
    pub search_window_secs: i64,
    /// Most creates per customer per minute (replays do not count).
    pub creates_per_minute: u32,
    /// How often each instance's sweeper looks for orders past their window.
    /// `0` turns the loop off (tests run sweeps themselves).
    pub sweep_interval_ms: u64,
    /// How often the cleanup job runs (the backstop); `0` turns it off.
    pub cleanup_interval_secs: u64,
    /// Most orders one sweep expires (the rest wait for the next tick).
    pub sweep_batch: i64,
    /// Published outbox rows older than this are pruned by the cleanup job.
    pub outbox_retention_hours: i64,
    /// Idempotency answers older than this are pruned by the cleanup job.
    pub idempotency_retention_hours: i64,
}
