//! `X-Idempotency-Key` for the captain app's retried mutations (hold,
//! confirm, release, driver answers): the key is claimed inside the
//! change's transaction and its answer stored there, so a retry with the
//! same key and body gets the same answer and changes nothing, and the same
//! key with another body is `409 IDEMPOTENCY_CONFLICT`. Refusals roll back
//! (claim included), so a retry after fixing the cause is a fresh attempt.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use uuid::Uuid;
use weelo_persistence::idempotency;

use crate::orders::OrderError;
use crate::{Dispatch, DispatchError};

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
            Tx::Refused(refused) => refused.into(),
        }
    }
}

/// Claims `keyed` (when present) in the caller's transaction; `false` means
/// an earlier request holds it: answer with [`replay`].
pub async fn claim(
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
pub async fn complete(
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
