//! What every handler shares: the use cases' handles, authentication, the
//! per-user limits and the metrics.

use std::sync::Arc;

use weelo_dispatch::Dispatch;

use crate::auth::session_cache::SessionCache;
use crate::auth::{AuthSettings, SmsSender, TokenKeys};
use crate::client_ip::TrustedProxies;
use crate::metrics::HttpMetrics;

/// Shared by all workers behind `web::Data`; every field is a cheap handle.
/// It dereferences to [`Dispatch`], the use cases' handles.
#[derive(Clone)]
pub struct AppState {
    /// The use cases' handles (pools, clock, timers, live indexes).
    pub dispatch: Dispatch,
    /// Login settings, keys and OTP delivery.
    pub auth: Arc<AuthContext>,
    /// HTTP request metrics.
    pub metrics: HttpMetrics,
    /// Per-user limits on the calls clients repeat on their own.
    pub limits: Arc<crate::limits::UserLimits>,
    /// This instance's sockets (a logout disconnects the session's).
    pub hub: weelo_realtime::Hub,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<TrustedProxies>,
}

impl std::ops::Deref for AppState {
    type Target = Dispatch;

    fn deref(&self) -> &Dispatch {
        &self.dispatch
    }
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
