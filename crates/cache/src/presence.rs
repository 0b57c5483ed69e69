//! Presence shared between instances: each beat writes `presence:{id}` (a
//! hash with a TTL) and appends to the `presence-events` stream; toggles
//! maintain the `online` set and append too. Every instance tails the
//! stream into its own in-memory index; a starting instance loads the
//! online set and hashes first, then tails from the last id it saw.

use deadpool_redis::redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use deadpool_redis::redis::{self, Pipeline};
use uuid::Uuid;

use crate::{Cache, CacheError};

/// How many events the stream keeps (approximately); a reader further
/// behind than this re-syncs from the hashes.
const STREAM_MAXLEN: usize = 200_000;
const STREAM: &str = "presence-events";
const ONLINE: &str = "online";

/// One transporter's last beat.
#[derive(Debug, Clone, PartialEq)]
pub struct Beat {
    /// The transporter.
    pub id: Uuid,
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// When, milliseconds since the epoch.
    pub beat_ms: i64,
    /// The keys of its free vehicles.
    pub keys: Vec<String>,
}

/// What instances tell each other.
#[derive(Debug, Clone, PartialEq)]
pub enum PresenceEvent {
    /// A heartbeat.
    Beat(Beat),
    /// Went online with these free vehicle keys.
    Online {
        /// Who.
        id: Uuid,
        /// Its free vehicle keys.
        keys: Vec<String>,
    },
    /// Went offline.
    Offline {
        /// Who.
        id: Uuid,
    },
}

/// What a starting instance loads.
#[derive(Debug, Default)]
pub struct PresenceSnapshot {
    /// The stream position to tail from.
    pub last_id: String,
    /// Everyone online.
    pub online: Vec<Uuid>,
    /// The last beat of those who beat within the TTL.
    pub beats: Vec<Beat>,
}

fn beat_key(id: Uuid) -> String {
    format!("presence:{id}")
}

impl Cache {
    /// Writes `event` to the shared state and the stream, in one round trip.
    /// `origin` names the writing instance, so it can skip its own events
    /// when it tails the stream (it applied them already, and replaying an
    /// older one of its own could undo a newer local change).
    pub async fn publish_presence(
        &self,
        event: &PresenceEvent,
        ttl_ms: u64,
        origin: &str,
    ) -> Result<(), CacheError> {
        self.publish_presence_batch(std::slice::from_ref(event), ttl_ms, origin)
            .await
    }

    /// [`Cache::publish_presence`] for many events in one round trip, in order.
    pub async fn publish_presence_batch(
        &self,
        events: &[PresenceEvent],
        ttl_ms: u64,
        origin: &str,
    ) -> Result<(), CacheError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut pipe = Pipeline::new();
        for event in events {
            self.add_presence(&mut pipe, event, ttl_ms, origin);
        }
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    fn add_presence(&self, pipe: &mut Pipeline, event: &PresenceEvent, ttl_ms: u64, origin: &str) {
        let stream = self.key(STREAM);
        let online = self.key(ONLINE);
        let mut xadd = redis::cmd("XADD");
        xadd.arg(&stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_MAXLEN)
            .arg("*")
            .arg("origin")
            .arg(origin);
        match event {
            PresenceEvent::Beat(beat) => {
                let key = self.key(&beat_key(beat.id));
                let keys = beat.keys.join(",");
                pipe.cmd("HSET")
                    .arg(&key)
                    .arg("lat")
                    .arg(beat.latitude)
                    .arg("lng")
                    .arg(beat.longitude)
                    .arg("beat")
                    .arg(beat.beat_ms)
                    .arg("keys")
                    .arg(&keys)
                    .ignore();
                pipe.cmd("PEXPIRE").arg(&key).arg(ttl_ms).ignore();
                // A restarted Redis gets the online set back within one beat.
                pipe.cmd("SADD")
                    .arg(&online)
                    .arg(beat.id.to_string())
                    .ignore();
                xadd.arg("op")
                    .arg("beat")
                    .arg("id")
                    .arg(beat.id.to_string());
                xadd.arg("lat")
                    .arg(beat.latitude)
                    .arg("lng")
                    .arg(beat.longitude);
                xadd.arg("beat").arg(beat.beat_ms).arg("keys").arg(keys);
            }
            PresenceEvent::Online { id, keys } => {
                pipe.cmd("SADD").arg(&online).arg(id.to_string()).ignore();
                xadd.arg("op")
                    .arg("online")
                    .arg("id")
                    .arg(id.to_string())
                    .arg("keys")
                    .arg(keys.join(","));
            }
            PresenceEvent::Offline { id } => {
                pipe.cmd("SREM").arg(&online).arg(id.to_string()).ignore();
                pipe.cmd("DEL").arg(self.key(&beat_key(*id))).ignore();
                xadd.arg("op").arg("offline").arg("id").arg(id.to_string());
            }
        }
        pipe.add_command(xadd).ignore();
    }

    /// The stream's last id, the online set and their hashes.
    pub async fn presence_snapshot(&self) -> Result<PresenceSnapshot, CacheError> {
        let mut conn = self.conn().await?;
        let last: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(self.key(STREAM))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await?;
        let last_id = last
            .ids
            .first()
            .map_or_else(|| "0-0".to_owned(), |entry| entry.id.clone());
        let members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.key(ONLINE))
            .query_async(&mut conn)
            .await?;
        let online: Vec<Uuid> = members
            .iter()
            .filter_map(|m| Uuid::parse_str(m).ok())
            .collect();
        if online.is_empty() {
            // An empty pipeline is an error in Redis' eyes; nobody is online.
            return Ok(PresenceSnapshot {
                last_id,
                online,
                beats: Vec::new(),
            });
        }
        let mut pipe = Pipeline::new();
        for id in &online {
            pipe.cmd("HGETALL").arg(self.key(&beat_key(*id)));
        }
        let hashes: Vec<std::collections::HashMap<String, String>> =
            pipe.query_async(&mut conn).await?;
        let beats = online
            .iter()
            .zip(hashes)
            .filter_map(|(id, hash)| {
                Some(Beat {
                    id: *id,
                    latitude: hash.get("lat")?.parse().ok()?,
                    longitude: hash.get("lng")?.parse().ok()?,
                    beat_ms: hash.get("beat")?.parse().ok()?,
                    keys: split_keys(hash.get("keys").map_or("", String::as_str)),
                })
            })
            .collect();
        Ok(PresenceSnapshot {
            last_id,
            online,
            beats,
        })
    }

    /// Events after `after` (at most `count`) with their origin, and the id
    /// to read from next.
    pub async fn read_presence(
        &self,
        after: &str,
        count: usize,
    ) -> Result<(String, Vec<(String, PresenceEvent)>), CacheError> {
        let mut conn = self.conn().await?;
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg(self.key(STREAM))
            .arg(after)
            .query_async(&mut conn)
            .await?;
        let entries: Vec<StreamId> = reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .collect();
        let next = entries
            .last()
            .map_or_else(|| after.to_owned(), |entry| entry.id.clone());
        let events = entries
            .iter()
            .filter_map(|entry| {
                let origin = entry.get::<String>("origin").unwrap_or_default();
                parse_event(entry).map(|event| (origin, event))
            })
            .collect();
        Ok((next, events))
    }
}

fn split_keys(joined: &str) -> Vec<String> {
    joined
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_event(entry: &StreamId) -> Option<PresenceEvent> {
    let op: String = entry.get("op")?;
    let id = Uuid::parse_str(&entry.get::<String>("id")?).ok()?;
    match op.as_str() {
        "beat" => Some(PresenceEvent::Beat(Beat {
            id,
            latitude: entry.get::<String>("lat")?.parse().ok()?,
            longitude: entry.get::<String>("lng")?.parse().ok()?,
            beat_ms: entry.get::<String>("beat")?.parse().ok()?,
            keys: split_keys(&entry.get::<String>("keys").unwrap_or_default()),
        })),
        "online" => Some(PresenceEvent::Online {
            id,
            keys: split_keys(&entry.get::<String>("keys").unwrap_or_default()),
        }),
        "offline" => Some(PresenceEvent::Offline { id }),
        _ => None,
    }
}
