//! The `[push]` section: which provider sends, how hard it tries, how long
//! a push is worth sending.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Who sends pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushProvider {
    /// Logs the masked token and the type; sends nothing (local, tests).
    Log,
    /// Firebase Cloud Messaging, HTTP v1.
    Fcm,
}

/// Push settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSettings {
    /// `log` or `fcm`.
    pub provider: PushProvider,
    /// A deployment refuses `log` unless this says a staging box means it.
    pub allow_log_provider: bool,
    /// The service account's JSON as Google issues it (`project_id`,
    /// `client_email`, `private_key`, `token_uri`); `fcm` needs it.
    #[serde(default)]
    pub fcm_credentials_file: Option<PathBuf>,
    /// Where `messages:send` is (tests and emulators point elsewhere; the
    /// token URL always comes from the credentials).
    pub fcm_base_url: String,
    /// One call to FCM or its token endpoint may take this long.
    pub request_timeout_ms: u64,
    /// A push not delivered this long after its event is dropped (counted).
    pub deadline_secs: u64,
    /// How long FCM may keep a normal push for an unreachable device.
    pub normal_ttl_secs: u64,
    /// The first retry's wait; each further one doubles, up to the cap.
    pub retry_base_ms: u64,
    /// The longest wait between two attempts.
    pub retry_max_ms: u64,
    /// A claimed job another worker may take over after this long.
    pub lease_secs: u64,
    /// How often an idle worker looks for due jobs (commits on this
    /// instance wake it at once).
    pub poll_interval_ms: u64,
    /// Jobs claimed at once.
    pub batch: i64,
    /// Sends in flight at once per instance.
    pub concurrency: usize,
    /// A socket's claim to be live lasts this long; the instance renews it
    /// three times as often while the socket answers its pings.
    pub socket_claim_secs: u64,
    /// Failures in a row (5xx, timeouts) that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker sends nothing before it tries one.
    pub breaker_open_secs: u64,
    /// Whether this instance runs push workers (every instance does by
    /// default; any of them sends any job).
    pub workers: bool,
}

impl PushSettings {
    /// [`PushSettings::deadline_secs`].
    pub fn deadline(&self) -> Duration {
        Duration::from_secs(self.deadline_secs)
    }

    /// [`PushSettings::normal_ttl_secs`].
    pub fn normal_ttl(&self) -> Duration {
        Duration::from_secs(self.normal_ttl_secs)
    }

    /// [`PushSettings::socket_claim_secs`].
    pub fn socket_claim(&self) -> Duration {
        Duration::from_secs(self.socket_claim_secs.max(3))
    }

    /// The wait before attempt `attempts + 1` (`attempts` ≥ 1 made): the
    /// base doubled per attempt, capped, scaled by `jitter` in [0.5, 1]
    /// (spreads retries after an outage), and never shorter than what the
    /// provider asked (`Retry-After`).
    pub fn backoff(&self, attempts: i32, jitter: f64, asked: Option<Duration>) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
        let wait = self
            .retry_base_ms
            .saturating_mul(1_u64 << doublings)
            .min(self.retry_max_ms);
        let jittered = Duration::from_millis(wait).mul_f64(jitter.clamp(0.5, 1.0));
        asked.map_or(jittered, |asked| jittered.max(asked))
    }
}
