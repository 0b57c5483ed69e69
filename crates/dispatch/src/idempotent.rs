//! The one runner of a keyed mutation ([`run`]) and `X-Idempotency-Key`
//! for the captain app's retried mutations (hold, confirm, driver answers,
//! trip steps): in one transaction the key is claimed, the change made,
//! its events appended to the outbox and its answer stored; after the
//! commit the relay is woken when there were events. A retry with the same
//! key and body gets the same answer and changes nothing, and the same key
//! with another body is `409 IDEMPOTENCY_CONFLICT`. Refusals roll back
//! (claim included), so a retry after fixing the cause is a fresh attempt.

use std::future::Future;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::Value;
use uuid::Uuid;
use weelo_persistence::idempotency;

use crate::events::{self, Outgoing};
use crate::orders::OrderError;
use crate::{Dispatch, DispatchError};

/// What a mutation's transaction made: its outcome (for the work after
/// the commit), the answer stored under the key, and the events it
/// announces.
#[derive(Debug)]
pub struct Change<T> {
    /// For the caller, after the commit.
    pub outcome: T,
    /// The answer (stored under the key, replayed to a retry).
    pub answer: Value,
    /// Appended to the outbox in the same transaction.
    pub events: Vec<Outgoing>,
}

/// The body of a mutation: an async closure over the transaction's
/// connection whose future is `Send` (as the connection's `transaction`
/// needs; stable Rust cannot name an async closure's future otherwise).
pub trait Body<'r, R>:
    AsyncFnOnce(&'r mut AsyncPgConnection) -> R
    + FnOnce(&'r mut AsyncPgConnection) -> <Self as Body<'r, R>>::Fut
{
    /// The closure's future.
    type Fut: Future<Output = R> + Send;
}

impl<'r, F, Fut, R> Body<'r, R> for F
where
    F: AsyncFnOnce(&'r mut AsyncPgConnection) -> R + FnOnce(&'r mut AsyncPgConnection) -> Fut,
    Fut: Future<Output = R> + Send,
{
    type Fut = Fut;
}

/// Runs one mutation of `user_id`: claims `keyed` (if any), runs `change`,
/// appends its events and stores its answer, all in one transaction; after
/// the commit wakes the relay if there were events. `None` when an earlier
/// request holds the key: answer with the stored answer.
pub async fn run<T, E, F>(
    dispatch: &Dispatch,
    keyed: Option<&Keyed>,
    user_id: Uuid,
    change: F,
) -> Result<Option<(T, Value)>, Tx<E>>
where
    T: Send,
    E: Send,
    F: for<'r> Body<'r, Result<Change<T>, Tx<E>>> + Send,
{
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await.map_err(Tx::Unavailable)?;
    let done = conn
        .transaction::<_, Tx<E>, _>(async move |conn| {
            if !claim(conn, keyed, user_id, now).await? {
                return Ok(None);
            }
            let Change {
                outcome,
                answer,
                events,
            } = change(conn).await?;
            events::append(conn, &events, now).await?;
            complete(conn, keyed, user_id, &answer).await?;
            Ok(Some((outcome, answer, !events.is_empty())))
        })
        .await?;
    drop(conn);
    Ok(done.map(|(outcome, answer, announced)| {
        if announced {
            dispatch.wake_relay();
        }
        (outcome, answer)
    }))
}

/// A request's idempotency key, scoped to one endpoint, with its body's hash.
#[derive(Debug, Clone)]
pub struct Keyed {
    scope: &'static str,
    key: String,
    hash: String,
}

impl Keyed {
    /// The key `key` of an endpoint `scope`, for a body whose hash is `hash`
    /// (see [`crate::orders::service::body_hash`]).
    pub fn new(scope: &'static str, key: String, hash: String) -> Self {
        Self { scope, key, hash }
    }
}

/// A transaction's failure: the database's, or a refusal that rolls back.
#[derive(Debug)]
pub enum Tx<E> {
    /// The database failed.
    Db(diesel::result::Error),
    /// No connection could be had (pool timeout).
    Unavailable(weelo_persistence::PersistenceError),
    /// A rule refused the change.
    Refused(E),
}

impl<E> From<diesel::result::Error> for Tx<E> {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error)
    }
}

impl<E: Into<DispatchError>> From<Tx<E>> for DispatchError {
    fn from(failure: Tx<E>) -> Self {
        match failure {
            Tx::Db(error) => error.into(),
            Tx::Unavailable(error) => error.into(),
            Tx::Refused(refused) => refused.into(),
        }
    }
}

/// Claims `keyed` (when present) in the caller's transaction; `false` means
/// an earlier request holds it: answer with [`replay`].
async fn claim(
    conn: &mut AsyncPgConnection,
    keyed: Option<&Keyed>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> diesel::QueryResult<bool> {
    match keyed {
        None => Ok(true),
        Some(k) => idempotency::claim(conn, user_id, k.scope, &k.key, &k.hash, now).await,
    }
}

/// Stores the answer of a claimed key in the caller's transaction.
async fn complete(
    conn: &mut AsyncPgConnection,
    keyed: Option<&Keyed>,
    user_id: Uuid,
    data: &Value,
) -> diesel::QueryResult<()> {
    match keyed {
        None => Ok(()),
        Some(k) => idempotency::complete(conn, user_id, k.scope, &k.key, 200, data).await,
    }
}

/// The stored answer of `keyed`, or `409 IDEMPOTENCY_CONFLICT` when the key
/// answered another body (or no key was sent, so nothing can be replayed).
pub async fn stored_answer(
    dispatch: &Dispatch,
    keyed: Option<&Keyed>,
    user_id: Uuid,
) -> Result<Value, DispatchError> {
    let Some(k) = keyed else {
        return Err(OrderError::IdempotencyConflict.into());
    };
    let mut conn = dispatch.conn().await?;
    let stored = idempotency::find(&mut conn, user_id, k.scope, &k.key).await?;
    match stored {
        Some(stored) if stored.request_hash == k.hash => Ok(stored.response_body),
        _ => Err(OrderError::IdempotencyConflict.into()),
    }
}
