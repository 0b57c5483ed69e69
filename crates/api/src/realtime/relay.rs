//! The outbox relay: committed events go to Redis pub/sub, and every
//! instance's subscriber hands them to its hub, so a socket on instance A
//! hears what B committed. Rows are claimed with `SKIP LOCKED` (instances
//! never relay one row twice at once) and marked published. The relaying
//! instance hands the events to its own sockets at once (and skips them
//! when they come back through pub/sub), so with Redis down its sockets
//! still hear everything. A subscriber whose
//! pub/sub connection dropped (Redis cuts a subscriber that falls behind)
//! catches up from the outbox when it subscribes again, skipping what it
//! already delivered.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::AsyncConnection;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weelo_cache::Cache;
use weelo_orders::Clock;
use weelo_persistence::{DbPool, PersistenceError, outbox};
use weelo_realtime::{Delivery, Hub};

use super::recent::Recent;

const CHANNEL: &str = "events";
const BATCH: i64 = 500;
const BATCH_LEN: usize = BATCH as usize;
/// Most events re-read when catching up after a lost subscription.
const CATCH_UP_LIMIT: i64 = 50_000;
/// How far before the loss a catch-up starts (messages in flight then).
const CATCH_UP_MARGIN: chrono::Duration = chrono::Duration::seconds(30);

/// Relays the outbox to the sockets of every instance. Cheap to clone.
#[derive(Clone)]
pub struct Relay {
    db: DbPool,
    cache: Cache,
    hub: Hub,
    clock: Arc<dyn Clock>,
    wake: Arc<tokio::sync::Notify>,
    recent: Arc<Recent>,
    /// Names this instance's batches on the channel.
    instance: Arc<str>,
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
            recent: Arc::default(),
            instance: Arc::from(uuid::Uuid::new_v4().to_string()),
        }
    }

    /// Hands `delivery` to this instance's sockets unless it already did
    /// (outbox events only; live ones have no sequence).
    fn deliver_once(&self, delivery: Delivery) {
        let fresh = delivery
            .event_id
            .parse::<i64>()
            .map_or(true, |id| self.recent.first_time(id));
        if fresh {
            self.hub.deliver(delivery);
        }
    }

    /// Delivers what was published since `since` and not delivered here.
    async fn catch_up(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, PersistenceError> {
        let mut conn = self.db.get().await?;
        let events = outbox::published_since(&mut conn, since, CATCH_UP_LIMIT).await?;
        let now_ms = self.clock.now().timestamp_millis();
        let count = events.len();
        for event in events {
            self.deliver_once(Delivery {
                rooms: event.recipients.into_iter().flatten().collect(),
                name: event.topic,
                data: event.payload,
                event_id: event.id.to_string(),
                server_time_ms: now_ms,
            });
        }
        Ok(count)
    }

    /// Relays one batch of unpublished events; returns how many.
    pub async fn relay_once(&self) -> Result<usize, PersistenceError> {
        let now = self.clock.now();
        let mut conn = self.db.get().await?;
        let this = self.clone();
        let relayed = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let events = outbox::claim_unpublished(conn, BATCH, now).await?;
                if events.is_empty() {
                    return Ok(0);
                }
                let count = events.len();
                let deliveries: Vec<Delivery> = events
                    .into_iter()
                    .map(|event| Delivery {
                        rooms: event.recipients.into_iter().flatten().collect(),
                        name: event.topic,
                        data: event.payload,
                        event_id: event.id.to_string(),
                        server_time_ms: now.timestamp_millis(),
                    })
                    .collect();
                let message = encode(&this.instance, &deliveries);
                // This instance's sockets first and straight away; the copy
                // that comes back through pub/sub is then skipped as seen.
                for delivery in deliveries {
                    this.deliver_once(delivery);
                }
                if let Err(error) = this.cache.publish(CHANNEL, &message).await {
                    tracing::warn!(error = %error, "redis pub/sub unavailable; this instance's sockets got the events, others will catch up");
                }
                Ok(count)
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
                    // A full batch may have left more behind; otherwise a
                    // commit since then has left a wake permit.
                    Ok(n) if n >= BATCH_LEN => continue,
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
            // When the last message arrived, and whether the subscription
            // was lost since (Redis drops what it buffered for a subscriber
            // it cuts, so the catch-up starts before the last message).
            let mut last_heard: Option<chrono::DateTime<chrono::Utc>> = None;
            let mut lost = false;
            loop {
                match subscriber.cache.subscribe(CHANNEL).await {
                    Ok(mut messages) => {
                        if let Some(since) = last_heard.filter(|_| lost) {
                            match subscriber.catch_up(since - CATCH_UP_MARGIN).await {
                                Ok(n) => tracing::info!(
                                    events = n,
                                    "caught up from the outbox after a lost subscription"
                                ),
                                Err(error) => {
                                    tracing::warn!(error = %error, "could not catch up after a lost subscription")
                                }
                            }
                        }
                        while let Some(message) = messages.next().await {
                            let Ok(text) = message.get_payload::<String>() else {
                                continue;
                            };
                            // This instance's own batches were delivered
                            // here before they were published.
                            if sender(&text) != Some(&*subscriber.instance) {
                                for delivery in decode(&text) {
                                    subscriber.deliver_once(delivery);
                                }
                            }
                            last_heard = Some(subscriber.clock.now());
                        }
                        tracing::warn!("event subscription ended; subscribing again");
                    }
                    Err(error) => tracing::debug!(error = %error, "event subscription unavailable"),
                }
                lost = true;
                last_heard.get_or_insert_with(|| subscriber.clock.now());
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// Sends an event that is not kept (a live position) to the sockets of
/// every instance now: through pub/sub, or to this instance's sockets alone
/// when Redis is down.
pub async fn publish_live(cache: &Cache, hub: &Hub, delivery: Delivery) {
    let message = encode("", std::slice::from_ref(&delivery));
    if let Err(error) = cache.publish(CHANNEL, &message).await {
        tracing::debug!(error = %error, "redis pub/sub unavailable; live event to this instance's sockets only");
        hub.deliver(delivery);
    }
}

/// One event on the pub/sub channel, as sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireOut<'a> {
    rooms: &'a [String],
    name: &'a str,
    data: &'a Value,
    event_id: &'a str,
    server_time_ms: i64,
}

/// One event on the pub/sub channel, as received.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireIn {
    rooms: Vec<String>,
    name: String,
    data: Value,
    event_id: String,
    server_time_ms: i64,
}

/// A pub/sub message: the sending instance (empty for live events, which
/// every instance delivers from the channel), a newline, then the events.
fn encode(instance: &str, deliveries: &[Delivery]) -> String {
    let wire: Vec<WireOut<'_>> = deliveries
        .iter()
        .map(|delivery| WireOut {
            rooms: &delivery.rooms,
            name: &delivery.name,
            data: &delivery.data,
            event_id: &delivery.event_id,
            server_time_ms: delivery.server_time_ms,
        })
        .collect();
    let events = serde_json::to_string(&wire).unwrap_or_else(|_| "[]".to_owned());
    format!("{instance}\n{events}")
}

/// The sender of a pub/sub message.
fn sender(text: &str) -> Option<&str> {
    text.split_once('\n').map(|(instance, _)| instance)
}

/// The events of a pub/sub message (none if malformed).
fn decode(text: &str) -> Vec<Delivery> {
    let Some((_, events)) = text.split_once('\n') else {
        return Vec::new();
    };
    serde_json::from_str::<Vec<WireIn>>(events)
        .unwrap_or_default()
        .into_iter()
        .map(|event| Delivery {
            rooms: event.rooms,
            name: event.name,
            data: event.data,
            event_id: event.event_id,
            server_time_ms: event.server_time_ms,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn delivery(n: i64) -> Delivery {
        Delivery {
            rooms: vec![format!("customer:{n}"), "order:x".to_owned()],
            name: "order_updated".to_owned(),
            data: json!({ "n": n, "nested": { "list": [1, "two"] } }),
            event_id: n.to_string(),
            server_time_ms: 1_700_000_000_000 + n,
        }
    }

    #[test]
    fn a_batch_comes_back_whole_with_its_sender() {
        let sent = vec![delivery(1), delivery(2)];
        let message = encode("instance-a", &sent);
        assert_eq!(sender(&message), Some("instance-a"));
        assert_eq!(decode(&message), sent);
    }

    #[test]
    fn a_live_event_has_no_sender_and_still_decodes() {
        let message = encode("", &[delivery(7)]);
        assert_eq!(sender(&message), Some(""));
        assert_eq!(decode(&message), [delivery(7)]);
    }

    #[test]
    fn a_malformed_message_yields_nothing() {
        for text in ["", "no newline", "a\nnot json", "a\n[{\"rooms\":1}]"] {
            assert!(decode(text).is_empty(), "{text:?}");
        }
    }
}
