//! [`Dispatch`]: what the use cases share (the pools, the clock, the order
//! settings, the timers and the live indexes). Every field is a cheap handle.

use std::sync::Arc;

use weelo_cache::Cache;
use weelo_orders::Clock;
use weelo_persistence::{DbConn, DbPool, PersistenceError};

use crate::documents::Storage;
use crate::documents::kyc::KycSettings;
use crate::orders::batcher::CreateBatcher;
use crate::orders::{Expiry, OrderSettings};
use crate::places::{MapsSettings, Places, PlacesMetrics};
use crate::presence::{Presence, PresenceSettings};
use crate::pricing::Prices;
use crate::push::{Push, PushMetrics, PushSender, PushSettings};
use crate::sockets::Sockets;
use crate::supervisor::Supervisor;
use crate::tracking::{Tracking, TrackingSettings};

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
    /// Owns the background work; the server stops it at shutdown.
    pub supervisor: Supervisor,
    /// This instance's sockets (live events, and the relay's deliveries).
    pub sockets: Arc<dyn Sockets>,
    /// Pokes this instance's outbox relay after a commit with events, so
    /// they go out now rather than at the relay's next poll.
    pub relay_wake: Arc<tokio::sync::Notify>,
    /// Push notifications for whoever has no live socket.
    pub push: Push,
    /// The rate card and the quote key.
    pub prices: Prices,
    /// Place search, routes and ETAs.
    pub places: Places,
    /// Documents' object storage.
    pub storage: Storage,
    /// The KYC rules.
    pub kyc: Arc<KycSettings>,
}

/// The configuration sections the use cases read.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// `[orders]`: windows, radius steps, limits.
    pub orders: OrderSettings,
    /// `[presence]`: heartbeat, staleness, the toggle's cooldown.
    pub presence: PresenceSettings,
    /// `[tracking]`: GPS fixes and the silence watchdog.
    pub tracking: TrackingSettings,
    /// `[push]`: the push provider and its retries.
    pub push: PushSettings,
    /// `[maps]`.
    pub maps: MapsSettings,
    /// `[kyc]`.
    pub kyc: KycSettings,
}

/// The outside providers' parts made by the caller: the push sender and
/// the metrics it registers.
pub struct Providers {
    /// Sends the pushes.
    pub push_sender: Arc<dyn PushSender>,
    /// Push metrics (registered by the caller).
    pub push_metrics: PushMetrics,
    /// Places metrics (registered by the caller).
    pub places_metrics: PlacesMetrics,
    /// Where documents are kept.
    pub storage: Storage,
}

impl Dispatch {
    /// The handles of one instance over `db` and `cache`; live positions go
    /// to this instance's `sockets`. Nothing runs in the
    /// background until the jobs are started.
    pub fn build(
        db: DbPool,
        cache: Cache,
        clock: Arc<dyn Clock>,
        settings: DispatchSettings,
        sockets: Arc<dyn Sockets>,
        providers: Providers,
        prices: Prices,
    ) -> Self {
        let supervisor = Supervisor::new();
        let orders = Arc::new(settings.orders);
        let expiry = Expiry::new(
            db.clone(),
            cache.clone(),
            clock.clone(),
            orders.clone(),
            &supervisor,
        );
        let presence = Presence::new(
            cache.clone(),
            db.clone(),
            clock.clone(),
            settings.presence,
            &supervisor,
        );
        let tracking = Tracking::new(
            settings.tracking,
            Arc::new(settings.maps.clone()),
            db.clone(),
            cache.clone(),
            sockets.clone(),
            clock.clone(),
            &supervisor,
        );
        let creates = CreateBatcher::new(
            db.clone(),
            cache.clone(),
            orders.create_batch_max,
            orders.create_batches_in_flight,
            &supervisor,
        );
        let push = Push::new(
            settings.push,
            providers.push_sender,
            providers.push_metrics,
            cache.clone(),
            clock.clone(),
        );
        let places = Places::new(settings.maps, cache.clone(), providers.places_metrics);
        Self {
            push,
            places,
            storage: providers.storage,
            kyc: Arc::new(settings.kyc),
            prices,
            db,
            cache,
            clock,
            orders,
            expiry,
            creates,
            presence,
            tracking,
            relay_wake: Arc::new(tokio::sync::Notify::new()),
            sockets,
            supervisor,
        }
    }

    /// A pooled connection; a pool timeout is `Unavailable` (503).
    pub async fn conn(&self) -> Result<DbConn, PersistenceError> {
        Ok(self.db.get().await?)
    }

    /// Tells the relay that events were just committed.
    pub fn wake_relay(&self) {
        self.relay_wake.notify_one();
        self.push.wake.notify_one();
    }
}
