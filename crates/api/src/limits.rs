//! Per-user limits on the calls a client repeats on its own: heartbeats, GPS
//! batches, holds and reconnect backlogs. A token bucket per user and kind,
//! in this instance's memory (no I/O on the hottest routes; the load
//! balancer spreads one user's calls, so each instance bounds its share),
//! timed by the service clock. Past it: 429 `RATE_LIMIT_EXCEEDED`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::ApiError;
use weelo_dispatch::ErrorCode;

/// The `[limits]` section: calls per user per minute (bursts up to the
/// same number); 0 switches a limit off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// `transporter/heartbeat` (the app beats every 5 s).
    pub heartbeats_per_minute: u32,
    /// `tracking/batch` (the app flushes every few seconds).
    pub gps_batches_per_minute: u32,
    /// `truck-hold/hold`.
    pub holds_per_minute: u32,
    /// `transporter/dispatch/replay` and a socket's `lastSeq` backlog.
    pub backlogs_per_minute: u32,
}

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A presence heartbeat.
    Heartbeat,
    /// A batch of GPS fixes.
    GpsBatch,
    /// A hold.
    Hold,
    /// A replay of missed events.
    Backlog,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Buckets kept per shard before the full (idle) ones are dropped.
const SHARD_BOUND: usize = 50_000;
const SHARDS: usize = 16;

/// The buckets of this instance.
pub struct UserLimits {
    settings: LimitSettings,
    shards: [Mutex<HashMap<(Uuid, Kind), Bucket>>; SHARDS],
}

impl UserLimits {
    /// Limits as configured.
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            settings,
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    fn per_minute(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Heartbeat => self.settings.heartbeats_per_minute,
            Kind::GpsBatch => self.settings.gps_batches_per_minute,
            Kind::Hold => self.settings.holds_per_minute,
            Kind::Backlog => self.settings.backlogs_per_minute,
        }
    }

    /// Takes one call of `kind` for `user` at `now`, or says how long to wait.
    pub fn take(&self, user: Uuid, kind: Kind, now: DateTime<Utc>) -> Result<(), u64> {
        let per_minute = self.per_minute(kind);
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let per_ms = capacity / 60_000.0;
        let now_ms = now.timestamp_millis();
        let shard = &self.shards[shard_of(user)];
        let mut buckets = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= SHARD_BOUND {
            buckets.retain(|(_, kind), bucket| {
                let full = f64::from(self.per_minute(*kind));
                refilled(*bucket, now_ms, full / 60_000.0, full) < full
            });
        }
        let bucket = buckets.entry((user, kind)).or_insert(Bucket {
            tokens: capacity,
            at_ms: now_ms,
        });
        let tokens = refilled(*bucket, now_ms, per_ms, capacity);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at_ms: now_ms,
            };
            return Ok(());
        }
        *bucket = Bucket {
            tokens,
            at_ms: now_ms,
        };
        let wait_ms = ((1.0 - tokens) / per_ms).ceil();
        Err(if wait_ms.is_finite() && wait_ms > 1.0 {
            wait_ms as u64
        } else {
            1
        })
    }

    /// [`UserLimits::take`] as the 429 the routes answer.
    pub fn check(&self, user: Uuid, kind: Kind, now: DateTime<Utc>) -> Result<(), ApiError> {
        self.take(user, kind, now).map_err(|retry_after_ms| {
            ApiError::rate_limited(
                ErrorCode::RateLimitExceeded,
                "too many requests; slow down",
                retry_after_ms,
            )
        })
    }
}

fn refilled(bucket: Bucket, now_ms: i64, per_ms: f64, capacity: f64) -> f64 {
    let elapsed = (now_ms - bucket.at_ms).max(0);
    #[expect(clippy::cast_precision_loss, reason = "milliseconds of a refill")]
    let gained = elapsed as f64 * per_ms;
    (bucket.tokens + gained).min(capacity)
}

fn shard_of(user: Uuid) -> usize {
    usize::from(user.as_bytes()[15]) % SHARDS
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn limits() -> UserLimits {
        UserLimits::new(LimitSettings {
            heartbeats_per_minute: 6,
            gps_batches_per_minute: 0,
            holds_per_minute: 2,
            backlogs_per_minute: 2,
        })
    }

    #[test]
    fn a_user_gets_a_minutes_worth_at_once_then_one_as_each_comes_due() {
        let limits = limits();
        let (user, other) = (Uuid::new_v4(), Uuid::new_v4());
        let start = Utc::now();
        for _ in 0..6 {
            assert_eq!(limits.take(user, Kind::Heartbeat, start), Ok(()));
        }
        assert_eq!(limits.take(user, Kind::Heartbeat, start), Err(10_000));
        assert_eq!(
            limits.take(other, Kind::Heartbeat, start),
            Ok(()),
            "per user"
        );
        assert_eq!(limits.take(user, Kind::Hold, start), Ok(()), "per kind");
        let later = start + Duration::seconds(10);
        assert_eq!(limits.take(user, Kind::Heartbeat, later), Ok(()));
        assert!(limits.take(user, Kind::Heartbeat, later).is_err());
    }

    #[test]
    fn a_limit_of_zero_is_off() {
        let limits = limits();
        let user = Uuid::new_v4();
        for _ in 0..1_000 {
            assert_eq!(limits.take(user, Kind::GpsBatch, Utc::now()), Ok(()));
        }
    }
}
