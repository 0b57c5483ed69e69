//! The `[realtime]` section.

use serde::Deserialize;

/// Realtime settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealtimeSettings {
    /// Engine.IO ping interval.
    pub ping_interval_ms: u64,
    /// How long a pong may take.
    pub ping_timeout_ms: u64,
    /// How long a client may take to CONNECT after the handshake.
    pub connect_timeout_ms: u64,
    /// Events a socket may have waiting before it is dropped as too slow.
    pub socket_queue: usize,
    /// How often the outbox relay looks for committed events.
    pub relay_interval_ms: u64,
}
