//! The `[presence]` section.

use serde::Deserialize;

/// Presence settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceSettings {
    /// A transporter without a beat for this long is not dispatched to.
    pub ttl_secs: i64,
    /// The apps beat every 5 s; answered as `nextHeartbeatMs`.
    pub heartbeat_interval_ms: i64,
    /// Least time between two availability toggles.
    pub toggle_cooldown_ms: i64,
    /// How often each instance reads the presence stream when it is idle.
    pub stream_poll_ms: u64,
    /// Geohash precision of the index cells (6: about 1.2 km × 0.6 km).
    pub geohash_precision: usize,
}
