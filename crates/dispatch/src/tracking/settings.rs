//! The `[tracking]` section.

use serde::Deserialize;

/// Tracking settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingSettings {
    /// A trip on the road silent this long is reported to the customer and
    /// the transporter (once, until it is heard from again).
    pub silent_after_secs: i64,
    /// A fix older than this is shown as stale (`isStale`).
    pub stale_after_secs: i64,
    /// Least time between two `location_updated` of one trip.
    pub emit_interval_ms: u64,
    /// How far in the future a fix's timestamp may be (phone clocks drift).
    pub max_future_skew_secs: i64,
    /// Most points in one `tracking/batch` (the app buffers up to 1 000).
    pub max_batch_points: usize,
    /// Fastest believable speed, metres per second.
    pub max_speed_mps: f64,
    /// How long the latest fix of a trip is kept in Redis.
    pub fix_ttl_secs: u64,
}
