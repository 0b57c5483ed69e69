//! Who is online and where: this instance's proximity index and online
//! map, fed by the beats it receives and by the presence stream every
//! instance writes to (docs/architecture.md, presence). PostgreSQL keeps only the last toggle;
//! the hot path (a beat of a transporter this instance knows) touches memory
//! and one Redis round trip, never PostgreSQL.

pub mod settings;
pub mod switch;
mod tail;
mod toggle;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::supervisor::{Supervisor, next_until_stopped};
use tokio::sync::mpsc;
use uuid::Uuid;
use weelo_availability::{Nearby, Point, ProximityIndex, Query};
use weelo_cache::Cache;
use weelo_cache::presence::{Beat, PresenceEvent};
use weelo_orders::Clock;
use weelo_persistence::{DbPool, PersistenceError, availability};

pub use settings::PresenceSettings;
pub use toggle::toggle;

/// What a beat did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeatOutcome {
    /// Indexed under these keys (none while every vehicle is busy).
    Registered {
        /// Free vehicle keys.
        keys: Vec<String>,
    },
    /// The transporter is offline: nothing changed.
    Offline,
}

#[derive(Default)]
struct State {
    index: ProximityIndex,
    /// Transporters known online, with their free vehicle keys.
    online: HashMap<Uuid, Vec<String>>,
    /// Went offline (from the stream): a late beat event must not revive them.
    tombstones: HashSet<Uuid>,
}

/// This instance's presence. Cheap to clone.
#[derive(Clone)]
pub struct Presence {
    state: Arc<RwLock<State>>,
    cache: Cache,
    db: DbPool,
    clock: Arc<dyn Clock>,
    settings: Arc<PresenceSettings>,
    redis_ok: Arc<AtomicBool>,
    /// This instance's name in the stream (its own events are skipped there).
    origin: Arc<str>,
    /// Events on their way to Redis.
    writer: mpsc::Sender<PresenceEvent>,
}

/// Most events one Redis pipeline carries.
const WRITE_BATCH: usize = 512;
/// Events that may wait for Redis.
const WRITE_QUEUE: usize = 65_536;

impl Presence {
    /// Empty presence over these handles; starts its Redis writer task
    /// under `supervisor` (call inside the tokio runtime).
    pub fn new(
        cache: Cache,
        db: DbPool,
        clock: Arc<dyn Clock>,
        settings: PresenceSettings,
        supervisor: &Supervisor,
    ) -> Self {
        let state = State {
            index: ProximityIndex::new(settings.geohash_precision),
            ..State::default()
        };
        let (writer, queue) = mpsc::channel(WRITE_QUEUE);
        let presence = Self {
            state: Arc::new(RwLock::new(state)),
            cache,
            db,
            clock,
            settings: Arc::new(settings),
            redis_ok: Arc::new(AtomicBool::new(true)),
            origin: Uuid::new_v4().to_string().into(),
            writer,
        };
        presence.spawn_writer(queue, supervisor);
        presence
    }

    /// The settings.
    pub fn settings(&self) -> &PresenceSettings {
        &self.settings
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.settings.ttl_secs.saturating_mul(1000)).unwrap_or(60_000)
    }

    /// Queues `event` for the writer task, which sends queued events to
    /// Redis in one pipeline per round trip (a beat never waits on Redis).
    /// A full queue (Redis far behind) drops the event: local presence is
    /// already updated, and the next beat carries the state again.
    async fn publish(&self, event: &PresenceEvent) {
        if self.writer.try_send(event.clone()).is_err() {
            tracing::debug!("presence writer queue full; dropping an event for redis");
        }
    }

    /// Starts the task that writes queued presence events to Redis.
    fn spawn_writer(&self, mut queue: mpsc::Receiver<PresenceEvent>, supervisor: &Supervisor) {
        let this = self.clone();
        let stopping = supervisor.stopping();
        supervisor.spawn(async move {
            let mut batch = Vec::with_capacity(WRITE_BATCH);
            while let Some(first) = next_until_stopped(&mut queue, &stopping).await {
                batch.push(first);
                while batch.len() < WRITE_BATCH {
                    match queue.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                if let Err(error) = this
                    .cache
                    .publish_presence_batch(&batch, this.ttl_ms(), &this.origin)
                    .await
                {
                    // Local presence keeps working; the tailer re-syncs later.
                    if this.redis_ok.swap(false, Ordering::Relaxed) {
                        tracing::warn!(error = %error, "presence is not reaching redis; serving from this instance");
                    }
                }
                batch.clear();
            }
        });
    }

    /// The free vehicle keys of `id` if it is online, learning it from
    /// PostgreSQL the first time this instance sees it.
    async fn online_keys(&self, id: Uuid) -> Result<Option<Vec<String>>, PersistenceError> {
        if let Some(keys) = self.read().online.get(&id) {
            return Ok(Some(keys.clone()));
        }
        let mut conn = self.db.get().await?;
        match availability::get(&mut conn, id).await? {
            Some((true, _)) => {
                let keys = availability::free_vehicle_keys(&mut conn, id).await?;
                let mut state = self.write();
                state.online.insert(id, keys.clone());
                state.tombstones.remove(&id);
                Ok(Some(keys))
            }
            _ => Ok(None),
        }
    }

    /// A heartbeat from `id` at `point`. Offline transporters are not
    /// revived. On a trip, the free keys are re-read (its vehicle is busy).
    pub async fn beat(
        &self,
        id: Uuid,
        point: Point,
        on_trip: bool,
    ) -> Result<BeatOutcome, PersistenceError> {
        let Some(mut keys) = self.online_keys(id).await? else {
            return Ok(BeatOutcome::Offline);
        };
        if on_trip {
            let mut conn = self.db.get().await?;
            keys = availability::free_vehicle_keys(&mut conn, id).await?;
        }
        let beat_ms = self.clock.now().timestamp_millis();
        {
            let mut state = self.write();
            if !state.online.contains_key(&id) {
                // Went offline while this beat was in flight.
                return Ok(BeatOutcome::Offline);
            }
            state.online.insert(id, keys.clone());
            state.index.upsert(id, point, &keys, beat_ms);
        }
        let beat = Beat {
            id,
            latitude: point.latitude,
            longitude: point.longitude,
            beat_ms,
            keys: keys.clone(),
        };
        self.publish(&PresenceEvent::Beat(beat)).await;
        Ok(BeatOutcome::Registered { keys })
    }

    /// `id` went online with these free keys (after the toggle committed).
    pub async fn set_online(&self, id: Uuid, keys: Vec<String>) {
        {
            let mut state = self.write();
            state.tombstones.remove(&id);
            state.online.insert(id, keys.clone());
        }
        self.publish(&PresenceEvent::Online { id, keys }).await;
    }

    /// `id` went offline (after the toggle committed): out of the index at once.
    pub async fn set_offline(&self, id: Uuid) {
        {
            let mut state = self.write();
            state.online.remove(&id);
            state.index.remove(id);
        }
        self.publish(&PresenceEvent::Offline { id }).await;
    }

    /// Re-reads `id`'s free vehicle keys after a fleet change, keeping its
    /// position; nothing when it is offline.
    pub async fn refresh_keys(&self, id: Uuid) -> Result<(), PersistenceError> {
        if !self.read().online.contains_key(&id) {
            return Ok(());
        }
        let mut conn = self.db.get().await?;
        let keys = availability::free_vehicle_keys(&mut conn, id).await?;
        let position = {
            let mut state = self.write();
            state.online.insert(id, keys.clone());
            let position = state.index.position(id);
            if let Some((point, beat_ms)) = position {
                state.index.upsert(id, point, &keys, beat_ms);
            }
            position
        };
        if let Some((point, beat_ms)) = position {
            let beat = Beat {
                id,
                latitude: point.latitude,
                longitude: point.longitude,
                beat_ms,
                keys,
            };
            self.publish(&PresenceEvent::Beat(beat)).await;
        }
        Ok(())
    }

    /// The `k` nearest fresh transporters with a free vehicle of `key`.
    pub fn nearest(&self, key: &str, point: Point, k: usize, radius_m: f64) -> Vec<Nearby> {
        self.nearest_excluding(key, point, k, radius_m, |_| false)
    }

    /// [`Presence::nearest`] skipping the transporters `exclude` names
    /// (already notified of the order), so they do not use up `k`.
    pub fn nearest_excluding(
        &self,
        key: &str,
        point: Point,
        k: usize,
        radius_m: f64,
        exclude: impl Fn(Uuid) -> bool,
    ) -> Vec<Nearby> {
        let query = Query {
            key,
            point,
            k,
            radius_m,
            now_ms: self.clock.now().timestamp_millis(),
            ttl_ms: self.settings.ttl_secs.saturating_mul(1000),
        };
        self.read().index.nearest(&query, exclude)
    }

    /// Whether `id` is online on this instance's view.
    pub fn is_online(&self, id: Uuid) -> bool {
        self.read().online.contains_key(&id)
    }

    /// Applies an event another instance (or this one) wrote to the stream.
    fn apply(&self, event: PresenceEvent) {
        let mut state = self.write();
        match event {
            PresenceEvent::Beat(beat) => {
                if state.tombstones.contains(&beat.id) {
                    return;
                }
                let point = Point::new(beat.latitude, beat.longitude);
                let newer = state
                    .index
                    .position(beat.id)
                    .is_none_or(|(_, at)| at <= beat.beat_ms);
                if newer {
                    state.index.upsert(beat.id, point, &beat.keys, beat.beat_ms);
                }
                state.online.insert(beat.id, beat.keys);
            }
            PresenceEvent::Online { id, keys } => {
                state.tombstones.remove(&id);
                state.online.insert(id, keys);
            }
            PresenceEvent::Offline { id } => {
                state.online.remove(&id);
                state.index.remove(id);
                state.tombstones.insert(id);
            }
        }
    }

    /// Drops entries whose last beat is older than the TTL (they are already
    /// skipped by searches; this frees their memory).
    fn sweep(&self) {
        let now_ms = self.clock.now().timestamp_millis();
        let ttl_ms = self.settings.ttl_secs.saturating_mul(1000);
        self.write().index.sweep_stale(now_ms, ttl_ms);
    }
}
