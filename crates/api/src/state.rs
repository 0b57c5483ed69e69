//! What every handler shares: the pools, the clock, authentication and the
//! metrics.

use std::sync::Arc;

use weelo_cache::Cache;
use weelo_orders::Clock;
use weelo_persistence::{DbConn, DbPool, PersistenceError};

use crate::auth::session_cache::SessionCache;
use crate::auth::{AuthSettings, SmsSender, TokenKeys};
use crate::client_ip::TrustedProxies;
use crate::metrics::HttpMetrics;
use crate::orders::batcher::CreateBatcher;
use crate::orders::{Expiry, OrderSettings};
use crate::presence::Presence;
use crate::tracking::Tracking;

/// Shared by all workers behind `web::Data`; every field is a cheap handle.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL, the source of truth.
    pub db: DbPool,
    /// Redis, the fast mirror.
    pub cache: Cache,
    /// The one source of "now".
    pub clock: Arc<dyn Clock>,
    /// Login settings, keys and OTP delivery.
    pub auth: Arc<AuthContext>,
    /// Order windows and limits.
    pub orders: Arc<OrderSettings>,
    /// Order timers, sweeper and cleanup.
    pub expiry: Expiry,
    /// Writes the creates that arrive together in one statement.
    pub creates: CreateBatcher,
    /// Who is online and where.
    pub presence: Presence,
    /// Live positions of trips.
    pub tracking: Tracking,
    /// HTTP request metrics.
    pub metrics: HttpMetrics,
    /// Per-user limits on the calls clients repeat on their own.
    pub limits: Arc<crate::limits::UserLimits>,
    /// This instance's sockets (a logout disconnects the session's).
    pub hub: weelo_realtime::Hub,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Pokes this instance's outbox relay after a commit with events, so
    /// they go out now rather than at the relay's next poll.
    pub relay_wake: Arc<tokio::sync::Notify>,
}

/// What login needs.
pub struct AuthContext {
    /// The `[auth]` settings.
    pub settings: AuthSettings,
    /// Token and hash keys.
    pub keys: TokenKeys,
    /// OTP delivery.
    pub sms: Arc<dyn SmsSender>,
    /// Sessions recently found live.
    pub sessions: SessionCache,
}

impl AuthContext {
    /// Keys from the settings' secret and the given sender.
    pub fn new(settings: AuthSettings, sms: Arc<dyn SmsSender>) -> Self {
        Self {
            keys: TokenKeys::new(settings.jwt_secret.clone()),
            sessions: SessionCache::new(chrono::Duration::seconds(settings.session_cache_secs)),
            settings,
            sms,
        }
    }
}

impl AppState {
    /// A pooled connection; a pool timeout is `Unavailable` (503).
    pub async fn conn(&self) -> Result<DbConn, PersistenceError> {
        Ok(self.db.get().await?)
    }

    /// Tells the relay that events were just committed.
    pub fn wake_relay(&self) {
        self.relay_wake.notify_one();
    }
}
