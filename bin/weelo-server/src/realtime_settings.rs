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
    /// How often each instance publishes a liveness message on the event
    /// channel.
    pub liveness_interval_ms: u64,
    /// An event subscription that hears nothing (not even liveness) this
    /// long is taken as dead: it subscribes again and catches up from the
    /// outbox. Several liveness intervals.
    pub subscription_silence_ms: u64,
    /// Engine.IO sessions open at once from one client address (refused
    /// with Engine.IO's `403 {"code":4}` past it); 0: unlimited.
    pub max_sessions_per_ip: usize,
    /// Engine.IO sessions open at once on this instance; 0: unlimited.
    pub max_sessions: usize,
    /// Sockets of one user on this instance; a new one closes the oldest.
    pub max_sockets_per_user: usize,
    /// Client events one socket may send per second (bursts of twice that);
    /// past it events are dropped and counted, and a socket that keeps
    /// exceeding is closed.
    pub events_per_second: u32,
}

impl RealtimeSettings {
    /// The relay's liveness interval and silence limit.
    pub fn liveness(&self) -> (std::time::Duration, std::time::Duration) {
        (
            std::time::Duration::from_millis(self.liveness_interval_ms.max(1)),
            std::time::Duration::from_millis(
                self.subscription_silence_ms
                    .max(self.liveness_interval_ms.saturating_mul(2)),
            ),
        )
    }

    /// The limits the realtime server enforces.
    pub fn limits(&self) -> weelo_realtime::limits::Limits {
        weelo_realtime::limits::Limits {
            max_sessions: self.max_sessions,
            max_sessions_per_ip: self.max_sessions_per_ip,
            max_sockets_per_user: self.max_sockets_per_user,
            events_per_second: self.events_per_second,
        }
    }
}
