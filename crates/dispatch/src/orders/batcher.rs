//! Order creates that arrive together are written together: each create
//! hands its rows to this instance's batcher and waits for its outcome. The
//! batcher takes whatever is waiting (up to `create_batch_max`) as soon as
//! one of its `create_batches_in_flight` slots is free, so a lone create is
//! written at once, alone, and under load the creates that queued while
//! the slots were busy share one statement and one commit
//! ([`weelo_persistence::order_batch`]). An order whose key is taken is
//! left out of its batch alone; a batch refused as a whole (a customer's
//! second searching order among them) is written again one order at a
//! time, so every create still gets its own answer.
//!
//! The batcher runs in its own tasks: a request that goes away while its
//! batch is being written does not cut the batch short for the others.

use std::sync::{Arc, OnceLock};

use tokio::sync::{Semaphore, mpsc, oneshot};
use weelo_cache::Cache;
use weelo_persistence::order_batch::Measured;
use weelo_persistence::order_batch::{self, Announcement, NewOrder};
use weelo_persistence::orders::{self, AnswerKey, CreateRefused, Order, TruckRequest};
use weelo_persistence::{DbPool, PersistenceError};

use crate::broadcast::steps::FirstStep;
use crate::events::names;
use crate::supervisor::{Supervisor, next_until_stopped};

/// Idempotency scope of create-order keys.
pub const CREATE_SCOPE: &str = "create-order";

/// An order about to be created: its rows, key, answer and first step.
pub(crate) struct Creating {
    /// The order row, with its first step's figures.
    pub(crate) order: Order,
    /// Its truck requests.
    pub(crate) trucks: Vec<TruckRequest>,
    /// The idempotency key.
    pub(crate) key: String,
    /// Hash of the request body.
    pub(crate) request_hash: String,
    /// The answer, JSON text (also `order_created`'s payload).
    pub(crate) answer: String,
    /// The first dispatch step.
    pub(crate) first: FirstStep,
    /// The rooms `order_created` goes to.
    pub(crate) rooms: Vec<String>,
    /// The road distance measured, km, and by whom.
    pub(crate) route: Option<(i32, &'static str)>,
}

impl Creating {
    fn new_order(&self) -> NewOrder<'_> {
        NewOrder {
            order: &self.order,
            trucks: &self.trucks,
            key: AnswerKey {
                scope: CREATE_SCOPE,
                key: &self.key,
                request_hash: &self.request_hash,
                answer: &self.answer,
            },
            first: self.first.step(),
            created: Announcement {
                topic: names::ORDER_CREATED,
                rooms: &self.rooms,
            },
            route: self.route.map(|(distance_km, source)| Measured {
                distance_km,
                source,
            }),
        }
    }
}

/// What a create came to: written, or refused (and why).
pub type Outcome = Result<Result<(), CreateRefused>, PersistenceError>;

struct Job {
    creating: Arc<Creating>,
    reply: oneshot::Sender<Outcome>,
}

/// The batcher of one instance. Cheap to clone.
#[derive(Clone)]
pub struct CreateBatcher {
    db: DbPool,
    cache: Cache,
    max: usize,
    in_flight: usize,
    jobs: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
    supervisor: Supervisor,
}

impl CreateBatcher {
    /// A batcher writing through `db` (and the written orders' snapshots to
    /// `cache`), at most `max` orders per statement and `in_flight`
    /// statements at once (both at least 1).
    pub fn new(
        db: DbPool,
        cache: Cache,
        max: usize,
        in_flight: usize,
        supervisor: &Supervisor,
    ) -> Self {
        Self {
            db,
            cache,
            max: max.max(1),
            in_flight: in_flight.max(1),
            jobs: Arc::new(OnceLock::new()),
            supervisor: supervisor.clone(),
        }
    }

    /// Writes `creating` (alone or with others) and returns its outcome.
    /// The first call starts the batcher's task (inside the runtime).
    pub(crate) async fn create(&self, creating: Arc<Creating>) -> Outcome {
        let jobs = self.jobs.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            self.supervisor.spawn(run(
                self.db.clone(),
                self.cache.clone(),
                receiver,
                self.max,
                Arc::new(Semaphore::new(self.in_flight)),
                self.supervisor.clone(),
            ));
            sender
        });
        let (reply, outcome) = oneshot::channel();
        jobs.send(Job { creating, reply }).map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

fn stopped() -> PersistenceError {
    PersistenceError::Unavailable("the order batcher has stopped".to_owned())
}

/// Takes the waiting jobs whenever a slot is free and writes them in a
/// task; at shutdown, writes those still waiting and stops.
async fn run(
    db: DbPool,
    cache: Cache,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    max: usize,
    slots: Arc<Semaphore>,
    supervisor: Supervisor,
) {
    let stopping = supervisor.stopping();
    while let Some(first) = next_until_stopped(&mut jobs, &stopping).await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < max {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (db, cache) = (db.clone(), cache.clone());
        supervisor.spawn(async move {
            write(&db, &cache, batch).await;
            drop(slot);
        });
    }
}

/// Writes a batch: in one statement if it has several orders and nothing
/// refuses it as a whole, else one order at a time. The written orders'
/// snapshots go to the Redis mirror (in one call) before anyone is answered,
/// so a client never reads an older state than its answer.
async fn write(db: &DbPool, cache: &Cache, batch: Vec<Job>) {
    let mut conn = match db.get().await {
        Ok(conn) => conn,
        Err(error) => {
            let error = error.to_string();
            for job in batch {
                let _ = job
                    .reply
                    .send(Err(PersistenceError::Unavailable(error.clone())));
            }
            return;
        }
    };
    if batch.len() > 1 {
        let items: Vec<NewOrder<'_>> = batch.iter().map(|job| job.creating.new_order()).collect();
        match order_batch::create_all(&mut conn, &items).await {
            Ok(written) => {
                drop(items);
                tracing::debug!(orders = batch.len(), "orders created in one statement");
                let orders: Vec<&Order> = batch
                    .iter()
                    .zip(&written)
                    .filter(|(_, written)| **written)
                    .map(|(job, _)| &job.creating.order)
                    .collect();
                super::mirror::publish_all(cache, &orders).await;
                for (job, written) in batch.into_iter().zip(written) {
                    let outcome = if written {
                        Ok(())
                    } else {
                        Err(CreateRefused::KeyTaken)
                    };
                    let _ = job.reply.send(Ok(outcome));
                }
                return;
            }
            Err(error) => {
                tracing::debug!(orders = batch.len(), error = %error, "a batch of creates was refused; writing them one by one");
            }
        }
    }
    for job in batch {
        let item = job.creating.new_order();
        let outcome = orders::create(&mut conn, item)
            .await
            .map_err(PersistenceError::from);
        if matches!(outcome, Ok(Ok(()))) {
            super::mirror::publish(cache, item.order).await;
        }
        let _ = job.reply.send(outcome);
    }
}
