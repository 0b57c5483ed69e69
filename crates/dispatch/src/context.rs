//! [`Dispatch`]: what the use cases share (the pools, the clock, the order
//! settings, the timers and the live indexes). Every field is a cheap handle.

use std::sync::Arc;

use weelo_cache::Cache;
use weelo_orders::Clock;
use weelo_persistence::{DbConn, DbPool, PersistenceError};

use crate::orders::batcher::CreateBatcher;
use crate::orders::{Expiry, OrderSettings};
use crate::presence::Presence;
use crate::tracking::Tracking;

/// The use cases' shared handles; the HTTP edge holds one and passes it to
/// every call.
#[derive(Clone)]
pub struct Dispatch {
    /// PostgreSQL, the source of truth.
    pub db: DbPool,
    /// Redis, the fast mirror.
    pub cache: Cache,
    /// The one source of "now".
    pub clock: Arc<dyn Clock>,
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
    /// Pokes this instance's outbox relay after a commit with events, so
    /// they go out now rather than at the relay's next poll.
    pub relay_wake: Arc<tokio::sync::Notify>,
}

impl Dispatch {
    /// A pooled connection; a pool timeout is `Unavailable` (503).
    pub async fn conn(&self) -> Result<DbConn, PersistenceError> {
        Ok(self.db.get().await?)
    }

    /// Tells the relay that events were just committed.
    pub fn wake_relay(&self) {
        self.relay_wake.notify_one();
    }
}
