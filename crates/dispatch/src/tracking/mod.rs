//! Trips and live tracking: the driver's trip status updates
//! ([`status`]), GPS fixes from the socket and from `tracking/batch`
//! ([`ingest`]), the tracking screens' shapes ([`view`]) and the silence
//! watchdog ([`watch`]).
//!
//! Fixes are ephemeral and frequent: the latest one of each trip lives in
//! this instance's memory and in Redis (a versioned snapshot, so an older
//! fix never replaces a newer one), `location_updated` goes straight to the
//! sockets through pub/sub at most once a second per trip, and the history
//! goes to `trip_points` in batches. Trip statuses are PostgreSQL changes
//! with their outbox events, like every other state change.

pub mod approach;
pub mod ingest;
pub mod queries;
pub mod settings;
pub mod status;
pub mod view;
pub mod watch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::places::MapsSettings;
use crate::sockets::Sockets;
use crate::supervisor::{Supervisor, next_until_stopped};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;
use weelo_cache::Cache;
use weelo_orders::Clock;
use weelo_persistence::assignments::Assignment;
use weelo_persistence::trips::{self, NewPoint};
use weelo_persistence::{DbPool, PersistenceError};

pub use settings::TrackingSettings;

/// How long a trip's owner and status are trusted without re-reading them
/// (a change made on another instance shows within this).
const TRIP_CACHE_MS: i64 = 5_000;
/// Socket fixes waiting for the writer; beyond this they are dropped (the
/// latest fix and the live event still go out).
const WRITE_QUEUE: usize = 65_536;
/// Most fixes in one insert.
const WRITE_BATCH: usize = 1_000;
/// Inserts of socket fixes in flight at once.
const WRITERS: usize = 8;

/// A GPS fix as kept for the live view.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// When the phone took it (ms since the epoch).
    pub at_ms: i64,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Metres per second.
    pub speed: Option<f64>,
    /// Degrees from north.
    pub bearing: Option<f64>,
    /// Metres.
    pub accuracy: Option<f64>,
}

/// What tracking needs to know of a trip, cached briefly.
#[derive(Debug, Clone)]
pub struct TripInfo {
    /// The assignment as read.
    pub assignment: Assignment,
    /// When it was read (ms).
    read_ms: i64,
}

/// The per-instance tracking state. Cheap to clone.
#[derive(Clone)]
pub struct Tracking {
    inner: Arc<Inner>,
}

struct Inner {
    settings: TrackingSettings,
    /// The approach thresholds and the ETA estimate.
    maps: Arc<MapsSettings>,
    /// Trips heading to the pickup, by trip: the pickup, and whether
    /// `driver_approaching` is settled for it.
    approached: Mutex<HashMap<Uuid, (weelo_availability::Point, bool)>>,
    db: DbPool,
    cache: Cache,
    sockets: Arc<dyn Sockets>,
    clock: Arc<dyn Clock>,
    trips: Mutex<HashMap<Uuid, TripInfo>>,
    fixes: Mutex<HashMap<Uuid, Fix>>,
    emitted: Mutex<HashMap<Uuid, i64>>,
    writer: mpsc::Sender<NewPoint>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Tracking {
    /// Tracking over these handles; starts the history writer (so it must
    /// be called inside the tokio runtime).
    pub fn new(
        settings: TrackingSettings,
        maps: Arc<MapsSettings>,
        db: DbPool,
        cache: Cache,
        sockets: Arc<dyn Sockets>,
        clock: Arc<dyn Clock>,
        supervisor: &Supervisor,
    ) -> Self {
        let (writer, queue) = mpsc::channel(WRITE_QUEUE);
        let tracking = Self {
            inner: Arc::new(Inner {
                settings,
                maps,
                db,
                cache,
                sockets,
                clock,
                approached: Mutex::new(HashMap::new()),
                trips: Mutex::new(HashMap::new()),
                fixes: Mutex::new(HashMap::new()),
                emitted: Mutex::new(HashMap::new()),
                writer,
            }),
        };
        tracking.spawn_writer(queue, supervisor);
        tracking
    }

    /// The `[tracking]` settings.
    pub fn settings(&self) -> &TrackingSettings {
        &self.inner.settings
    }

    /// The trip `trip_id` as recently read (PostgreSQL on a miss).
    pub async fn trip(&self, trip_id: Uuid) -> Result<Option<Assignment>, PersistenceError> {
        let now_ms = self.inner.clock.now().timestamp_millis();
        if let Some(info) = locked(&self.inner.trips).get(&trip_id)
            && now_ms - info.read_ms < TRIP_CACHE_MS
        {
            return Ok(Some(info.assignment.clone()));
        }
        let mut conn = self.inner.db.get().await?;
        let found = trips::find(&mut conn, trip_id).await?;
        if let Some(assignment) = &found {
            self.remember(assignment.clone());
        }
        Ok(found)
    }

    /// Records a trip's new state (after a change on this instance).
    pub fn remember(&self, assignment: Assignment) {
        let read_ms = self.inner.clock.now().timestamp_millis();
        locked(&self.inner.trips).insert(
            assignment.trip_id,
            TripInfo {
                assignment,
                read_ms,
            },
        );
    }

    /// The latest fix of a trip: this instance's, else the shared one.
    pub async fn latest(&self, trip_id: Uuid) -> Option<Fix> {
        let local = locked(&self.inner.fixes).get(&trip_id).copied();
        let shared = match self.inner.cache.get_snapshot(&fix_key(trip_id)).await {
            Ok(Some(json)) => serde_json::from_str::<Fix>(&json).ok(),
            Ok(None) => None,
            Err(error) => {
                tracing::debug!(error = %error, "shared fix unavailable; using this instance's");
                None
            }
        };
        match (local, shared) {
            (Some(a), Some(b)) => Some(if b.at_ms > a.at_ms { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// [`Tracking::latest`] of many trips in one Redis round trip (the
    /// watchdog's page): with Redis slow or gone it costs one timeout, not
    /// one per trip, and this instance's fixes still count.
    pub async fn latest_many(&self, trip_ids: &[Uuid]) -> HashMap<Uuid, Fix> {
        let keys: Vec<String> = trip_ids.iter().map(|id| fix_key(*id)).collect();
        let shared = match self.inner.cache.get_snapshots(&keys).await {
            Ok(found) => found,
            Err(error) => {
                tracing::debug!(error = %error, "shared fixes unavailable; using this instance's");
                Vec::new()
            }
        };
        let local = locked(&self.inner.fixes);
        let mut latest = HashMap::with_capacity(trip_ids.len());
        for (n, trip_id) in trip_ids.iter().enumerate() {
            let shared = shared
                .get(n)
                .and_then(Option::as_deref)
                .and_then(|json| serde_json::from_str::<Fix>(json).ok());
            let newest = match (local.get(trip_id).copied(), shared) {
                (Some(a), Some(b)) => Some(if b.at_ms > a.at_ms { b } else { a }),
                (a, b) => a.or(b),
            };
            if let Some(fix) = newest {
                latest.insert(*trip_id, fix);
            }
        }
        latest
    }

    /// This instance's latest fix of a trip (no I/O: the hot path of socket
    /// fixes).
    fn local_latest(&self, trip_id: Uuid) -> Option<Fix> {
        locked(&self.inner.fixes).get(&trip_id).copied()
    }

    /// Keeps `fix` as the trip's latest (if it is newer) here, and with
    /// `share` in Redis too (at the live events' pace, not every fix).
    async fn keep_latest(&self, trip_id: Uuid, fix: Fix, share: bool) {
        {
            let mut fixes = locked(&self.inner.fixes);
            let newer = fixes.get(&trip_id).is_none_or(|old| old.at_ms <= fix.at_ms);
            if newer {
                fixes.insert(trip_id, fix);
            }
        }
        if !share {
            return;
        }
        let Ok(json) = serde_json::to_string(&fix) else {
            return;
        };
        let ttl_ms = self.inner.settings.fix_ttl_secs.saturating_mul(1000);
        if let Err(error) = self
            .inner
            .cache
            .put_snapshot(&fix_key(trip_id), fix.at_ms, &json, ttl_ms)
            .await
        {
            tracing::debug!(error = %error, "could not share the latest fix");
        }
    }

    /// Whether a `location_updated` for `trip_id` may go out now (at most
    /// one per trip per interval on this instance); marks it sent if so.
    fn may_emit(&self, trip_id: Uuid, now_ms: i64) -> bool {
        let interval = i64::try_from(self.inner.settings.emit_interval_ms).unwrap_or(i64::MAX);
        let mut emitted = locked(&self.inner.emitted);
        match emitted.get(&trip_id) {
            Some(last) if now_ms - last < interval => false,
            _ => {
                emitted.insert(trip_id, now_ms);
                true
            }
        }
    }

    /// Drops what this instance keeps of trips that went quiet: trip reads
    /// past their cache life, latest fixes older than the shared copy's
    /// life (`tracking.fix_ttl_secs`) and emit marks past their interval.
    /// Run by the watchdog's loop, so the maps hold the trips on the road
    /// now, not every trip this instance ever saw. Returns how many went.
    pub fn prune(&self) -> usize {
        let now_ms = self.inner.clock.now().timestamp_millis();
        let fix_ttl_ms = i64::try_from(self.inner.settings.fix_ttl_secs.saturating_mul(1000))
            .unwrap_or(i64::MAX);
        let interval_ms = i64::try_from(self.inner.settings.emit_interval_ms).unwrap_or(i64::MAX);
        let mut dropped = 0;
        {
            let mut trips = locked(&self.inner.trips);
            let before = trips.len();
            trips.retain(|_, info| now_ms - info.read_ms < TRIP_CACHE_MS);
            dropped += before - trips.len();
        }
        {
            let mut fixes = locked(&self.inner.fixes);
            let before = fixes.len();
            fixes.retain(|_, fix| now_ms - fix.at_ms < fix_ttl_ms);
            dropped += before - fixes.len();
        }
        let mut emitted = locked(&self.inner.emitted);
        let before = emitted.len();
        emitted.retain(|_, at_ms| now_ms - *at_ms < interval_ms);
        dropped + before - emitted.len()
    }

    /// How many trips this instance keeps something of: (trip reads, latest
    /// fixes, emit marks).
    pub fn kept(&self) -> (usize, usize, usize) {
        (
            locked(&self.inner.trips).len(),
            locked(&self.inner.fixes).len(),
            locked(&self.inner.emitted).len(),
        )
    }

    /// Forgets an ended trip's live state on this instance.
    pub fn forget(&self, trip_id: Uuid) {
        locked(&self.inner.trips).remove(&trip_id);
        locked(&self.inner.fixes).remove(&trip_id);
        locked(&self.inner.emitted).remove(&trip_id);
        locked(&self.inner.approached).remove(&trip_id);
    }

    /// Queues socket fixes for the history writer; `false` when it is full.
    fn queue_history(&self, point: NewPoint) -> bool {
        self.inner.writer.try_send(point).is_ok()
    }

    /// Drains the queue into batched inserts, up to [`WRITERS`] at once.
    fn spawn_writer(&self, mut queue: mpsc::Receiver<NewPoint>, supervisor: &Supervisor) {
        let inner = Arc::downgrade(&self.inner);
        let writers = Arc::new(tokio::sync::Semaphore::new(WRITERS));
        let stopping = supervisor.stopping();
        let tasks = supervisor.clone();
        supervisor.spawn(async move {
            while let Some(first) = next_until_stopped(&mut queue, &stopping).await {
                let mut batch = Vec::with_capacity(WRITE_BATCH);
                batch.push(first);
                while batch.len() < WRITE_BATCH {
                    match queue.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let Some(inner) = inner.upgrade() else {
                    return;
                };
                let Ok(permit) = writers.clone().acquire_owned().await else {
                    return;
                };
                tasks.spawn(async move {
                    let now = inner.clock.now();
                    let written = match inner.db.get().await {
                        Ok(mut conn) => trips::insert_points(&mut conn, &batch, now)
                            .await
                            .map_err(PersistenceError::from),
                        Err(error) => Err(PersistenceError::from(error)),
                    };
                    if let Err(error) = written {
                        tracing::warn!(error = %error, points = batch.len(), "trip history batch not written");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    drop(permit);
                });
            }
        });
    }
}

fn fix_key(trip_id: Uuid) -> String {
    format!("trip-fix:{trip_id}")
}
