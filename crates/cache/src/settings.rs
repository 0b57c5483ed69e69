//! The `[redis]` configuration section (`APP_REDIS__*` overrides).

use secrecy::SecretString;
use serde::Deserialize;

/// How to reach Redis and how to name our keys there.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://…` for plain TCP, `rediss://…` for TLS, exactly as given; a
    /// secret (it may carry a password), never logged.
    pub url: SecretString,
    /// Most connections the pool opens (each is multiplexed).
    pub pool_size: usize,
    /// Prepended to every key, so several deployments or tests share a server.
    pub key_prefix: String,
    /// How long opening a connection, or one command, may take before Redis
    /// counts as down for that call.
    pub timeout_ms: u64,
    /// A pooled connection idle longer than this is checked (`PING`)
    /// before it is handed out; one used more recently is handed out at
    /// once, unless a command failed for a lost connection since.
    pub verify_idle_after_ms: u64,
}
