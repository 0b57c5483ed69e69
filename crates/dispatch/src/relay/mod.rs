//! The outbox relay: committed events are numbered in commit order (the
//! delivery sequence, `_seq`, one relay at a time), handed to this
//! instance's sockets at once, and published on Redis pub/sub, where every
//! other instance's subscriber hands them to its sockets: a socket on instance
//! A hears what B committed. An event is marked published only once
//! pub/sub took it; until then every pass retries it (a failed publish, or
//! an instance that died between numbering and publishing, loses nothing).
//! The subscriber knows its subscription is alive from the liveness message
//! each instance publishes every few seconds; after silence, or a lost
//! connection, it subscribes again and pages through every event numbered
//! since the last it delivered, skipping those it already has.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use crate::sockets::{Delivery, Sockets};
use diesel_async::AsyncConnection;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weelo_cache::Cache;
use weelo_orders::Clock;
use weelo_persistence::outbox::StoredEvent;
use weelo_persistence::{DbPool, PersistenceError, outbox};

mod recent;

use recent::Recent;

const CHANNEL: &str = "events";
const BATCH: i64 = 500;
const BATCH_LEN: usize = BATCH as usize;
/// Events read per page when catching up.
const CATCH_UP_PAGE: i64 = 2_000;
/// How far below the last delivered sequence a catch-up starts: an event
/// retried by another instance may arrive after higher ones (the ones in
/// between are skipped as already delivered).
const CATCH_UP_MARGIN: i64 = 10_000;
/// How often pending publishes are looked for without a known failure:
/// events a replay numbered, or an instance that died between numbering
/// and publishing left.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Relays the outbox to the sockets of every instance. Cheap to clone.
#[derive(Clone)]
pub struct Relay {
    db: DbPool,
    cache: Cache,
    sockets: Arc<dyn Sockets>,
    clock: Arc<dyn Clock>,
    wake: Arc<tokio::sync::Notify>,
    recent: Arc<Recent>,
    /// Names this instance's batches on the channel.
    instance: Arc<str>,
    /// The highest sequence delivered here (where a catch-up starts).
    high_water: Arc<AtomicI64>,
    /// A publish failed: look for pending ones on the next pass.
    backlog: Arc<AtomicBool>,
    /// Sequences published and not yet marked published (marked by the
    /// next pass; an instance that dies first leaves them to be published
    /// again, which subscribers skip as already delivered).
    unmarked: Arc<std::sync::Mutex<Vec<i64>>>,
    /// Publishes failed in a row, and when this instance tries again: a
    /// relay whose Redis fails backs off and leaves the pending events to
    /// the instances whose Redis works (it would hold their rows locked for
    /// every attempt's timeout).
    publish_backoff: Arc<std::sync::Mutex<(u32, Option<tokio::time::Instant>)>>,
    /// How often this instance says on the channel that it is alive.
    liveness_every: Duration,
    /// A subscription silent this long is taken as dead.
    silence_limit: Duration,
}

impl Relay {
    /// A relay over these handles, saying it is alive every
    /// `liveness_every` and taking a subscription silent for
    /// `silence_limit` as dead (a few liveness messages missed).
    pub fn new(
        db: DbPool,
        cache: Cache,
        sockets: Arc<dyn Sockets>,
        clock: Arc<dyn Clock>,
        wake: Arc<tokio::sync::Notify>,
        (liveness_every, silence_limit): (Duration, Duration),
    ) -> Self {
        Self {
            db,
            cache,
            sockets,
            clock,
            wake,
            recent: Arc::default(),
            instance: Arc::from(uuid::Uuid::new_v4().to_string()),
            high_water: Arc::default(),
            backlog: Arc::default(),
            unmarked: Arc::default(),
            publish_backoff: Arc::default(),
            liveness_every,
            silence_limit,
        }
    }

    /// Hands `delivery` to this instance's sockets unless it already did
    /// (outbox events only; live ones have no sequence).
    fn deliver_once(&self, delivery: Delivery) {
        let seq = delivery.event_id.parse::<i64>().ok();
        let fresh = seq.is_none_or(|seq| self.recent.first_time(seq));
        if let Some(seq) = seq {
            self.high_water.fetch_max(seq, Ordering::AcqRel);
        }
        if fresh {
            self.sockets.deliver(delivery);
        }
    }

    /// Delivers every event numbered after `after` and not delivered here,
    /// a page at a time; returns how many were read.
    async fn catch_up(&self, after: i64) -> Result<usize, PersistenceError> {
        let mut conn = self.db.get().await?;
        let mut after = after;
        let mut read = 0;
        loop {
            let page = outbox::numbered_after(&mut conn, after, CATCH_UP_PAGE).await?;
            let now_ms = self.clock.now().timestamp_millis();
            let full = page.len() >= usize::try_from(CATCH_UP_PAGE).unwrap_or(usize::MAX);
            read += page.len();
            for event in page {
                after = event.sequence();
                self.deliver_once(delivery(event, now_ms));
            }
            if !full {
                return Ok(read);
            }
        }
    }

    /// One pass: numbers what committed since the last pass and hands it
    /// to this instance's sockets at once (before the numbering commits: the
    /// numbers are never given twice), then publishes it and marks it
    /// published; after a failure, now and then, or when events were
    /// numbered elsewhere, it also publishes everything pending. Returns how
    /// many events were numbered.
    pub async fn relay_once(&self) -> Result<usize, PersistenceError> {
        self.relay_pass(true).await
    }

    /// [`Relay::relay_once`]; `look_first` looks whether anything waits
    /// before taking the lock (a timer's pass; a pass woken by a commit
    /// here knows something does and saves the round trip).
    async fn relay_pass(&self, look_first: bool) -> Result<usize, PersistenceError> {
        let now = self.clock.now();
        let now_ms = now.timestamp_millis();
        let mut conn = self.db.get().await?;
        // Published last pass, marked now: in this pass's transaction when
        // there is one, so a pass commits (and waits for the disk) once.
        let marks = std::mem::take(&mut *self.unmarked());
        let waiting = !look_first || outbox::has_unnumbered(&mut conn).await?;
        let fresh = if waiting {
            let this = self.clone();
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                if !marks.is_empty() {
                    outbox::mark_published_seqs(conn, &marks, now).await?;
                }
                let events = outbox::number_new(conn, BATCH).await?;
                let deliveries: Vec<Delivery> = events
                    .into_iter()
                    .map(|event| delivery(event, now_ms))
                    .collect();
                // This instance's sockets first and straight away (before
                // the commit: the numbers are never given twice); the copy
                // that comes back through pub/sub is skipped as ours.
                for delivery in &deliveries {
                    this.deliver_once(delivery.clone());
                }
                Ok(deliveries)
            })
            .await?
        } else {
            if !marks.is_empty() {
                outbox::mark_published_seqs(&mut conn, &marks, now).await?;
            }
            Vec::new()
        };
        let count = fresh.len();
        if count > 0 && !self.backing_off() {
            let message = encode(&self.instance, &fresh);
            match self.cache.publish(CHANNEL, &message).await {
                Ok(_) => self.unmarked().extend(
                    fresh
                        .iter()
                        .filter_map(|delivery| delivery.event_id.parse::<i64>().ok()),
                ),
                Err(error) => {
                    tracing::warn!(error = %error, events = count, "redis pub/sub unavailable; this instance's sockets got the events, the others get them once it is back");
                    self.publish_failed();
                }
            }
        } else if count > 0 {
            self.backlog.store(true, Ordering::Release);
        }
        if self.backlog.swap(false, Ordering::AcqRel) {
            let marks = std::mem::take(&mut *self.unmarked());
            if !marks.is_empty() {
                outbox::mark_published_seqs(&mut conn, &marks, self.clock.now()).await?;
            }
            self.publish_pending(&mut conn, now_ms).await?;
        }
        Ok(count)
    }

    /// Sequences published and not yet marked so.
    fn unmarked(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        self.unmarked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether this instance waits before publishing again after failures.
    fn backing_off(&self) -> bool {
        self.backoff()
            .1
            .is_some_and(|until| tokio::time::Instant::now() < until)
    }

    /// Counts a failed publish: the events stay pending, and this instance
    /// waits 1, 2, 4… up to 16 s before it tries again, leaving them to the
    /// instances whose Redis works.
    fn publish_failed(&self) {
        let mut backoff = self.backoff();
        let failures = backoff.0.saturating_add(1);
        let wait = Duration::from_secs(1 << failures.min(5).saturating_sub(1));
        *backoff = (failures, Some(tokio::time::Instant::now() + wait));
        self.backlog.store(true, Ordering::Release);
    }

    /// Publishes the oldest pending events (locked, so two instances do not
    /// publish the same ones) and marks them published; when pub/sub fails
    /// they stay pending for the next pass.
    async fn publish_pending(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        now_ms: i64,
    ) -> Result<(), PersistenceError> {
        if self.backing_off() {
            self.backlog.store(true, Ordering::Release);
            return Ok(());
        }
        let this = self.clone();
        let outcome = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let pending = outbox::claim_pending(conn, BATCH).await?;
                if pending.is_empty() {
                    return Ok(Published::All);
                }
                let deliveries: Vec<Delivery> = pending
                    .into_iter()
                    .map(|event| delivery(event, now_ms))
                    .collect();
                // Numbered elsewhere (a replay) and not yet delivered here.
                for delivery in &deliveries {
                    this.deliver_once(delivery.clone());
                }
                let message = encode(&this.instance, &deliveries);
                if let Err(error) = this.cache.publish(CHANNEL, &message).await {
                    tracing::warn!(error = %error, events = deliveries.len(), "redis pub/sub unavailable; this instance's sockets got the events, the others get them once it is back");
                    return Ok(Published::Failed);
                }
                let seqs: Vec<i64> = deliveries
                    .iter()
                    .filter_map(|delivery| delivery.event_id.parse().ok())
                    .collect();
                outbox::mark_published_seqs(conn, &seqs, this.clock.now()).await?;
                Ok(if deliveries.len() >= BATCH_LEN {
                    Published::MoreLeft
                } else {
                    Published::All
                })
            })
            .await?;
        match outcome {
            Published::All => *self.backoff() = (0, None),
            Published::MoreLeft => {
                *self.backoff() = (0, None);
                self.backlog.store(true, Ordering::Release);
            }
            Published::Failed => self.publish_failed(),
        }
        Ok(())
    }

    fn backoff(&self) -> std::sync::MutexGuard<'_, (u32, Option<tokio::time::Instant>)> {
        self.publish_backoff
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts the relay loop and this instance's subscriber under
    /// `supervisor`. At shutdown the relay makes one last pass, so what the
    /// requests in flight committed still goes out.
    pub fn spawn(&self, every: Duration, supervisor: &crate::supervisor::Supervisor) {
        let relay = self.clone();
        let stopping = supervisor.stopping();
        let beats = supervisor.clone();
        supervisor.spawn(async move {
            let mut last_said_alive = tokio::time::Instant::now();
            let mut last_retry = tokio::time::Instant::now();
            let mut woken = false;
            loop {
                if last_retry.elapsed() >= RETRY_EVERY {
                    last_retry = tokio::time::Instant::now();
                    relay.backlog.store(true, Ordering::Release);
                }
                match relay.relay_pass(!woken).await {
                    // A full batch may have left more behind; otherwise a
                    // commit since then has left a wake permit.
                    Ok(n) if n >= BATCH_LEN => {
                        beats.passed("relay");
                        woken = true;
                        continue;
                    }
                    Ok(_) => beats.passed("relay"),
                    Err(error) => tracing::warn!(error = %error, "outbox relay failed; retrying"),
                }
                if last_said_alive.elapsed() >= relay.liveness_every {
                    last_said_alive = tokio::time::Instant::now();
                    let _ = relay
                        .cache
                        .publish(CHANNEL, &encode(&relay.instance, &[]))
                        .await;
                }
                // Woken by a commit on this instance, or polling for those of
                // others (and for rows a crashed instance left behind).
                woken = tokio::select! {
                    () = stopping.cancelled() => {
                        if let Err(error) = relay.relay_pass(true).await {
                            tracing::warn!(error = %error, "the outbox relay's last pass failed");
                        }
                        break;
                    }
                    () = relay.wake.notified() => true,
                    () = tokio::time::sleep(every) => false,
                };
            }
        });
        let subscriber = self.clone();
        let stopping = supervisor.stopping();
        supervisor.spawn(async move {
            tokio::select! {
                () = stopping.cancelled() => {}
                () = subscriber.subscribe_forever() => {}
            }
        });
    }

    /// Where a catch-up would start: the last sequence given when this
    /// instance starts (it owes its sockets nothing older).
    async fn start_from_the_last_sequence(&self) {
        loop {
            let last = match self.db.get().await {
                Ok(mut conn) => outbox::last_seq(&mut conn)
                    .await
                    .map_err(PersistenceError::from),
                Err(error) => Err(PersistenceError::from(error)),
            };
            match last {
                Ok(last) => {
                    self.high_water.fetch_max(last, Ordering::AcqRel);
                    return;
                }
                Err(error) => {
                    tracing::debug!(error = %error, "relay waits for the database");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Subscribes, delivers, and after any loss or silence subscribes again
    /// and catches up from the outbox.
    async fn subscribe_forever(&self) {
        self.start_from_the_last_sequence().await;
        let mut lost = false;
        loop {
            match self.cache.subscribe(CHANNEL).await {
                Ok(mut messages) => {
                    if lost {
                        let from = self.high_water.load(Ordering::Acquire) - CATCH_UP_MARGIN;
                        match self.catch_up(from.max(0)).await {
                            Ok(n) => tracing::info!(
                                events = n,
                                "caught up from the outbox after a lost subscription"
                            ),
                            Err(error) => {
                                tracing::warn!(error = %error, "could not catch up after a lost subscription")
                            }
                        }
                    }
                    loop {
                        match tokio::time::timeout(self.silence_limit, messages.next()).await {
                            Ok(Some(message)) => {
                                let Ok(text) = message.get_payload::<String>() else {
                                    continue;
                                };
                                // This instance's own batches were delivered
                                // here before they were published.
                                if sender(&text) != Some(&*self.instance) {
                                    for delivery in decode(&text) {
                                        self.deliver_once(delivery);
                                    }
                                }
                            }
                            Ok(None) => {
                                tracing::warn!("event subscription ended; subscribing again");
                                break;
                            }
                            Err(_) => {
                                tracing::warn!(
                                    silent_ms = self.silence_limit.as_millis(),
                                    "event subscription silent; subscribing again"
                                );
                                break;
                            }
                        }
                    }
                }
                Err(error) => tracing::debug!(error = %error, "event subscription unavailable"),
            }
            lost = true;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// How a publish of pending events went.
enum Published {
    /// Everything pending went out (or nothing was pending).
    All,
    /// A full batch went out; more may wait.
    MoreLeft,
    /// Pub/sub refused it; the events stay pending.
    Failed,
}

/// A numbered event as the sockets get it (its sequence is its id on the
/// wire: `eventId` and `_seq`).
fn delivery(event: StoredEvent, now_ms: i64) -> Delivery {
    Delivery {
        event_id: event.sequence().to_string(),
        rooms: event.recipients.into_iter().flatten().collect(),
        name: event.topic,
        data: event.payload,
        server_time_ms: now_ms,
    }
}

/// Sends an event that is not kept (a live position) to the sockets of
/// every instance now: through pub/sub, or to this instance's sockets alone
/// when Redis is down.
pub async fn publish_live(cache: &Cache, sockets: &dyn Sockets, delivery: Delivery) {
    let message = encode("", std::slice::from_ref(&delivery));
    if let Err(error) = cache.publish(CHANNEL, &message).await {
        tracing::debug!(error = %error, "redis pub/sub unavailable; live event to this instance's sockets only");
        sockets.deliver(delivery);
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

/// The events of `room` after sequence `after` (at most `limit`), stamped
/// as the relay stamps them and marked `_replayed`: what a reconnecting
/// socket missed.
pub async fn backlog(
    dispatch: &crate::Dispatch,
    room: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<(String, Value)>, crate::DispatchError> {
    let mut conn = dispatch.conn().await?;
    // What committed a moment ago is numbered now, so the backlog has it.
    outbox::number_committed(&mut conn).await?;
    let events =
        outbox::for_room_after(&mut conn, room, after, limit, crate::events::FLEET_EVENTS).await?;
    let now_ms = dispatch.clock.now().timestamp_millis();
    Ok(events
        .into_iter()
        .map(|event| {
            let seq = event.sequence();
            let mut data = event.payload;
            if let Value::Object(map) = &mut data {
                map.insert("eventId".to_owned(), json!(seq.to_string()));
                map.insert("_seq".to_owned(), json!(seq));
                map.insert("serverTimeMs".to_owned(), json!(now_ms));
                map.insert("_replayed".to_owned(), json!(true));
            }
            (event.topic, data)
        })
        .collect())
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
