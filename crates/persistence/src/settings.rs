//! The `[database]` configuration section (`APP_DATABASE__*` overrides).

use secrecy::SecretString;
use serde::Deserialize;

/// How to reach PostgreSQL and how hard to lean on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:port/database`; a secret, never logged.
    pub url: SecretString,
    /// Most connections the pool opens.
    pub pool_size: usize,
    /// How long a request waits for a free connection before it is told 503.
    pub wait_timeout_ms: u64,
    /// How long opening one connection may take.
    pub connect_timeout_ms: u64,
    /// Server-side cap on any one statement, so a stuck query cannot hold a
    /// connection forever.
    pub statement_timeout_ms: u64,
    /// A pooled connection idle longer than this is checked (`SELECT 1`)
    /// before it is handed out; one used more recently is handed out at
    /// once, since a connection that just worked and then broke is caught by
    /// the pool's broken-connection check or fails its one statement.
    pub verify_idle_after_ms: u64,
    /// Shown in `pg_stat_activity`, so operators can tell our sessions apart.
    pub application_name: String,
    /// With `sslmode=require` in the URL: the PEM file of the CA (or the
    /// self-signed certificate) the server's certificate and host name are
    /// checked against. Without it the connection is encrypted but the
    /// server is not checked, as libpq's `require`.
    #[serde(default)]
    pub tls_root_cert: Option<String>,
}
