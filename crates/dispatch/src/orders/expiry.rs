//! Order expiry, in three layers that all call `persistence::orders::expire`
//! (one function, always with its outbox event), so an order is expired
//! exactly once whoever gets there first:
//! - a precise timer per order, on the instance that created it (all of an
//!   instance's timers in one task: [`super::timers`]);
//! - the sweeper on every instance, every second, claiming due orders with
//!   `FOR UPDATE SKIP LOCKED` (nothing is lost when an instance dies);
//! - the cleanup job every two minutes under a lock (Redis, or a PostgreSQL
//!   advisory lock when Redis is down): the backstop, which also prunes old
//!   outbox and idempotency rows, ended sessions, dead OTP challenges and
//!   old abuse-limit counters.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_cache::Cache;
use weelo_orders::{Clock, OrderStatus};
use weelo_persistence::orders::{self, Expired};
use weelo_persistence::{
    DbPool, PersistenceError, dispatch, idempotency, limits, otp, outbox, sessions,
};

use super::OrderSettings;
use super::timers::Timers;
use crate::events::{
    self, BookingFullyFilled, BroadcastExpired, Event, HoldExpired, OrderExpired, Outgoing, Room,
    TrucksRemaining,
};
use crate::supervisor::Supervisor;

/// The advisory-lock key of the cleanup job when Redis is down.
const CLEANUP_ADVISORY_KEY: i64 = 0x7765_656c_6f63_6c6e;
/// The Redis lock of the cleanup job; shorter than its interval.
const CLEANUP_LOCK_MS: u64 = 100_000;

/// The expiry jobs of one instance. Cheap to clone.
#[derive(Clone)]
pub struct Expiry {
    db: DbPool,
    cache: Cache,
    clock: Arc<dyn Clock>,
    settings: Arc<OrderSettings>,
    instance: String,
    timers: Arc<Timers>,
    supervisor: Supervisor,
}

/// What a cleanup run did.
#[derive(Debug, Default)]
pub struct CleanupReport {
    /// Whether this instance held the lock (otherwise it did nothing).
    pub ran: bool,
    /// Orders expired.
    pub expired: usize,
    /// Outbox rows pruned.
    pub outbox_pruned: usize,
    /// Idempotency answers pruned.
    pub idempotency_pruned: usize,
    /// Ended sessions, dead OTP challenges, old rate counters and lockouts
    /// pruned.
    pub auth_pruned: usize,
    /// The orders expired, as they are now (for the mirror, after commit).
    pub expired_orders: Vec<orders::Order>,
}

/// How long ended auth rows are kept: longer than any OTP window, rate
/// window or lockout window the settings allow (`AuthSettings::validate`).
const AUTH_RETENTION: chrono::Duration = chrono::Duration::days(8);

/// Prunes what login leaves behind: ended sessions, dead OTP challenges,
/// rate counters and lockouts long past.
async fn prune_auth(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<usize, diesel::result::Error> {
    let before = now - AUTH_RETENTION;
    Ok(sessions::prune(conn, before).await?
        + otp::prune(conn, before).await?
        + limits::prune_counters(conn, before).await?
        + limits::prune_lockouts(conn, before, now).await?)
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

impl Expiry {
    /// The jobs over these handles.
    pub fn new(
        db: DbPool,
        cache: Cache,
        clock: Arc<dyn Clock>,
        settings: Arc<OrderSettings>,
        supervisor: &Supervisor,
    ) -> Self {
        Self {
            db,
            cache,
            clock,
            settings,
            instance: Uuid::new_v4().to_string(),
            timers: Arc::new(Timers::new(supervisor)),
            supervisor: supervisor.clone(),
        }
    }

    /// Arms the precise timer of order `id`. Must be called inside the
    /// tokio runtime; a timer that fires after the order changed does nothing.
    pub fn schedule(&self, id: Uuid, expires_at: DateTime<Utc>) {
        let wait = (expires_at - self.clock.now()).to_std().unwrap_or_default();
        self.timers
            .arm(tokio::time::Instant::now() + wait, id, || {
                // The timer task's own handle, without the timers (no cycle).
                let this = Self {
                    timers: Arc::new(Timers::default()),
                    ..self.clone()
                };
                move |id| {
                    let this = this.clone();
                    let supervisor = this.supervisor.clone();
                    supervisor.spawn(async move {
                        if let Err(error) = this.expire_one(id).await {
                            tracing::warn!(order.id = %id, error = %error, "order timer failed; the sweeper will retry");
                        }
                    });
                }
            });
    }

    async fn expire_one(&self, id: Uuid) -> Result<Option<Expired>, PersistenceError> {
        let now = self.clock.now();
        let mut conn = self.db.get().await?;
        let expired = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let expired = orders::expire(conn, id, now).await?;
                announce_expired(conn, expired.as_slice(), now).await?;
                Ok(expired)
            })
            .await?;
        if let Some(done) = &expired {
            log_expired(done, "timer");
            super::mirror::publish(&self.cache, &done.order).await;
        }
        Ok(expired)
    }

    /// One sweep: expires up to a batch of due orders no other instance is
    /// expiring right now.
    pub async fn sweep_once(&self) -> Result<Vec<Expired>, PersistenceError> {
        let now = self.clock.now();
        let batch = self.settings.sweep_batch;
        let mut conn = self.db.get().await?;
        let expired = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let expired = orders::expire_due(conn, now, batch).await?;
                announce_expired(conn, &expired, now).await?;
                Ok(expired)
            })
            .await?;
        for done in &expired {
            log_expired(done, "sweeper");
            super::mirror::publish(&self.cache, &done.order).await;
        }
        let holds = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let holds = weelo_persistence::holds::expire_due(conn, now, batch).await?;
                let events: Vec<Outgoing> = holds
                    .iter()
                    .map(|hold| {
                        Event::HoldExpired(HoldExpired::of(hold, now))
                            .to([Room::Transporter(hold.transporter_id)], hold.order_id)
                    })
                    .collect();
                events::append(conn, &events, now).await?;
                Ok(holds)
            })
            .await?;
        for hold in &holds {
            tracing::info!(hold.id = %hold.id, order.id = %hold.order_id, "hold expired");
        }
        Ok(expired)
    }

    /// One cleanup run, if this instance gets the lock.
    pub async fn cleanup_once(&self) -> Result<CleanupReport, PersistenceError> {
        let report = self.cleanup_committed().await?;
        for order in &report.expired_orders {
            super::mirror::publish(&self.cache, order).await;
        }
        Ok(report)
    }

    async fn cleanup_committed(&self) -> Result<CleanupReport, PersistenceError> {
        match self
            .cache
            .try_lock("cleanup", &self.instance, CLEANUP_LOCK_MS)
            .await
        {
            Ok(false) => Ok(CleanupReport::default()),
            Ok(true) => {
                let report = self.cleanup_locked().await;
                if let Err(error) = self.cache.unlock("cleanup", &self.instance).await {
                    tracing::warn!(error = %error, "could not release the cleanup lock; it expires by itself");
                }
                report
            }
            Err(error) => {
                tracing::warn!(error = %error, "redis lock unavailable; cleanup falls back to an advisory lock");
                let mut conn = self.db.get().await?;
                let this = self.clone();
                Ok(conn
                    .transaction::<_, diesel::result::Error, _>(async |conn| {
                        let Locked { locked } =
                            sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                                .bind::<BigInt, _>(CLEANUP_ADVISORY_KEY)
                                .get_result(conn)
                                .await?;
                        if !locked {
                            return Ok(CleanupReport::default());
                        }
                        this.cleanup_in(conn).await
                    })
                    .await?)
            }
        }
    }

    async fn cleanup_locked(&self) -> Result<CleanupReport, PersistenceError> {
        let mut conn = self.db.get().await?;
        let this = self.clone();
        Ok(conn
            .transaction::<_, diesel::result::Error, _>(async |conn| this.cleanup_in(conn).await)
            .await?)
    }

    async fn cleanup_in(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<CleanupReport, diesel::result::Error> {
        let now = self.clock.now();
        let mut report = CleanupReport {
            ran: true,
            ..CleanupReport::default()
        };
        loop {
            let expired = orders::expire_due(conn, now, self.settings.sweep_batch).await?;
            announce_expired(conn, &expired, now).await?;
            let full_batch =
                expired.len() >= usize::try_from(self.settings.sweep_batch).unwrap_or(usize::MAX);
            report.expired += expired.len();
            for done in expired {
                log_expired(&done, "cleanup");
                report.expired_orders.push(done.order);
            }
            if !full_batch {
                break;
            }
        }
        let outbox_before = now - chrono::Duration::hours(self.settings.outbox_retention_hours);
        report.outbox_pruned = outbox::prune(conn, outbox_before).await?;
        let keys_before = now - chrono::Duration::hours(self.settings.idempotency_retention_hours);
        report.idempotency_pruned = idempotency::prune(conn, keys_before).await?;
        report.auth_pruned = prune_auth(conn, now).await?;
        Ok(report)
    }

    /// Starts the sweeper and the cleanup loops under `supervisor` (each
    /// off when its interval is 0).
    pub fn spawn_loops(&self, supervisor: &crate::supervisor::Supervisor) {
        if self.settings.sweep_interval_ms > 0 {
            let this = self.clone();
            let every = Duration::from_millis(self.settings.sweep_interval_ms);
            supervisor.spawn_every("order_expiry", every, move || {
                let this = this.clone();
                async move {
                    if let Err(error) = this.sweep_once().await {
                        tracing::warn!(error = %error, "sweep failed; retrying next tick");
                    }
                }
            });
        }
        if self.settings.cleanup_interval_secs > 0 {
            let this = self.clone();
            let every = Duration::from_secs(self.settings.cleanup_interval_secs);
            supervisor.spawn_every("cleanup", every, move || {
                let this = this.clone();
                async move {
                    match this.cleanup_once().await {
                        Ok(report) if report.ran => tracing::info!(
                            cleanup.expired = report.expired,
                            cleanup.outbox_pruned = report.outbox_pruned,
                            cleanup.idempotency_pruned = report.idempotency_pruned,
                            cleanup.auth_pruned = report.auth_pruned,
                            "cleanup ran"
                        ),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(error = %error, "cleanup failed; retrying next run")
                        }
                    }
                }
            });
        }
    }
}

/// Writes `order_expired` for each of `expired`, to the order's watchers
/// and every transporter it was offered to, in the expiry's transaction (a
/// partly filled order: see [`settled_at_what_it_got`]).
pub(crate) async fn announce_expired(
    conn: &mut AsyncPgConnection,
    expired: &[Expired],
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let mut announced = Vec::with_capacity(expired.len());
    for done in expired {
        let order = &done.order;
        let notified = dispatch::notified_of(conn, order.id).await?;
        if order.status == OrderStatus::Expired {
            announced.push(
                Event::OrderExpired(OrderExpired::of(order, done.trucks_expired))
                    .to(Room::of_order_and(order, &notified), order.id),
            );
        } else {
            // Partly filled: the trucks taken go on. The customer app turns
            // any `order_expired` into its timeout screen (whose Retry
            // cancels the running trucks), so the customer hears the search
            // settle at what it got; the transporters still hear it closed.
            announced.extend(settled_at_what_it_got(order, now));
            let transporters: Vec<Room> = notified.iter().copied().map(Room::Transporter).collect();
            if !transporters.is_empty() {
                announced.push(
                    Event::OrderExpired(OrderExpired::of(order, done.trucks_expired))
                        .to(transporters, order.id),
                );
            }
        }
        // The captain's own word for an offer that closed (docs/app-contract.md §3.12);
        // its push is this one, not `order_expired`'s.
        if !notified.is_empty() {
            announced.push(
                Event::BroadcastExpired(BroadcastExpired::of(order))
                    .to(notified.iter().copied().map(Room::Transporter), order.id),
            );
        }
    }
    events::append(conn, &announced, now).await.map(drop)
}

/// For the customer of a partly filled order whose window ended: the
/// search is over at the trucks it got (`trucks_remaining_update` with
/// nothing remaining, `booking_fully_filled`), so the app opens tracking.
fn settled_at_what_it_got(
    order: &weelo_persistence::orders::Order,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let got = order.trucks_filled;
    let mut remaining = TrucksRemaining::of(order, "", now);
    remaining.trucks_needed = got;
    remaining.total_trucks = got;
    remaining.trucks_remaining = 0;
    vec![
        Event::TrucksRemaining(remaining).to(Room::of_order(order), order.id),
        Event::BookingFullyFilled(BookingFullyFilled {
            order_id: order.id,
            booking_id: order.id,
            trucks_filled: got,
            trucks_needed: got,
            status: order.status,
        })
        .to(Room::of_order(order), order.id),
    ]
}

fn log_expired(done: &Expired, by: &'static str) {
    tracing::info!(
        order.id = %done.order.id,
        order.reason = done.reason_code,
        order.trucks_expired = done.trucks_expired,
        expired.by = by,
        "order expired"
    );
}
