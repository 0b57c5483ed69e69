//! The outbox relay: committed events go to Redis pub/sub, and every
//! instance's subscriber hands them to its hub, so a socket on instance A
//! hears what B committed. Rows are claimed with `SKIP LOCKED` (instances
//! never relay one row twice at once) and marked published; with Redis down
//! the relaying instance delivers to its own sockets.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::AsyncConnection;
use futures_util::StreamExt;
use serde_json::{Value, json};
use weelo_cache::Cache;
use weelo_orders::Clock;
use weelo_persistence::{DbPool, PersistenceError, outbox};
use weelo_realtime::{Delivery, Hub};

const CHANNEL: &str = "events";
const BATCH: i64 = 500;

/// Relays the outbox to the sockets of every instance. Cheap to clone.
#[derive(Clone)]
pub struct Relay {
    db: DbPool,
    cache: Cache,
    hub: Hub,
    clock: Arc<dyn Clock>,
    wake: Arc<tokio::sync::Notify>,
}

impl Relay {
    /// A relay over these handles.
    pub fn new(
        db: DbPool,
        cache: Cache,
        hub: Hub,
        clock: Arc<dyn Clock>,
        wake: Arc<tokio::sync::Notify>,
    ) -> Self {
        Self {
            db,
            cache,
            hub,
            clock,
            wake,
        }
    }

    /// Relays one batch of unpublished events; returns how many.
    pub async fn relay_once(&self) -> Result<usize, PersistenceError> {
        let now = self.clock.now();
        let mut conn = self.db.get().await?;
        let this = self.clone();
        let relayed = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let events = outbox::claim_unpublished(conn, BATCH).await?;
                if events.is_empty() {
                    return Ok(0);
                }
                let deliveries: Vec<Delivery> = events
                    .iter()
                    .map(|event| Delivery {
                        rooms: event.recipients.iter().flatten().cloned().collect(),
                        name: event.topic.clone(),
                        data: event.payload.clone(),
                        event_id: event.id.to_string(),
                        server_time_ms: now.timestamp_millis(),
                    })
                    .collect();
                let message = Value::Array(deliveries.iter().map(encode).collect()).to_string();
                if let Err(error) = this.cache.publish(CHANNEL, &message).await {
                    tracing::warn!(error = %error, "redis pub/sub unavailable; delivering to this instance's sockets only");
                    for delivery in deliveries {
                        this.hub.deliver(delivery);
                    }
                }
                let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
                outbox::mark_published(conn, &ids, now).await?;
                Ok(events.len())
            })
            .await?;
        Ok(relayed)
    }

    /// Starts the relay loop and this instance's subscriber.
    pub fn spawn(&self, every: Duration) {
        let relay = self.clone();
        tokio::spawn(async move {
            loop {
                match relay.relay_once().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(error = %error, "outbox relay failed; retrying"),
                }
                // Woken by a commit on this instance, or polling for those of
                // others (and for rows a crashed instance left behind).
                tokio::select! {
                    () = relay.wake.notified() => {}
                    () = tokio::time::sleep(every) => {}
                }
            }
        });
        let subscriber = self.clone();
        tokio::spawn(async move {
            loop {
                match subscriber.cache.subscribe(CHANNEL).await {
                    Ok(mut messages) => {
                        while let Some(message) = messages.next().await {
                            let Ok(text) = message.get_payload::<String>() else {
                                continue;
                            };
                            for delivery in decode(&text) {
                                subscriber.hub.deliver(delivery);
                            }
                        }
                        tracing::warn!("event subscription ended; subscribing again");
                    }
                    Err(error) => tracing::debug!(error = %error, "event subscription unavailable"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// Sends an event that is not kept (a live position) to the sockets of
/// every instance now: through pub/sub, or to this instance's sockets alone
/// when Redis is down.
pub async fn publish_live(cache: &Cache, hub: &Hub, delivery: Delivery) {
    let message = Value::Array(vec![encode(&delivery)]).to_string();
    if let Err(error) = cache.publish(CHANNEL, &message).await {
        tracing::debug!(error = %error, "redis pub/sub unavailable; live event to this instance's sockets only");
        hub.deliver(delivery);
    }
}

fn encode(delivery: &Delivery) -> Value {
    json!({
        "rooms": delivery.rooms,
        "name": delivery.name,
        "data": delivery.data,
        "eventId": delivery.event_id,
        "serverTimeMs": delivery.server_time_ms,
    })
}

fn decode(text: &str) -> Vec<Delivery> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            Some(Delivery {
                rooms: item
                    .get("rooms")?
                    .as_array()?
                    .iter()
                    .filter_map(|room| room.as_str().map(str::to_owned))
                    .collect(),
                name: item.get("name")?.as_str()?.to_owned(),
                data: item.get("data")?.clone(),
                event_id: item.get("eventId")?.as_str()?.to_owned(),
                server_time_ms: item.get("serverTimeMs")?.as_i64()?,
            })
        })
        .collect()
}
