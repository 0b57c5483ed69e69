//! What every handler shares: the pools and the metrics.

use weelo_cache::Cache;
use weelo_persistence::DbPool;

use crate::metrics::HttpMetrics;

/// Shared by all workers behind `web::Data`; every field is a cheap handle.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL, the source of truth.
    pub db: DbPool,
    /// Redis, the fast mirror.
    pub cache: Cache,
    /// HTTP request metrics.
    pub metrics: HttpMetrics,
}
