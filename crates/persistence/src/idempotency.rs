//! Stored answers of retried mutations, keyed by (user, scope, key). The
//! caller writes the answer in the same transaction as the change, so a
//! replay can never see a change without its answer or the reverse.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::idempotency_keys;

/// A stored answer.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::pg::Pg))]
pub struct StoredAnswer {
    /// Hash of the request body it answered.
    pub request_hash: String,
    /// HTTP status.
    pub response_status: i16,
    /// Body.
    pub response_body: serde_json::Value,
}

/// The answer stored for this key, if any.
pub async fn find(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    scope: &str,
    key: &str,
) -> QueryResult<Option<StoredAnswer>> {
    idempotency_keys::table
        .find((user_id, scope, key))
        .select(StoredAnswer::as_select())
        .first(conn)
        .await
        .optional()
}

/// Claims the key inside the caller's transaction, before the change is
/// made. A concurrent request with the same key waits here until the first
/// commits, then gets `false`: it rolls back and replays the stored answer.
/// If the caller's transaction rolls back, the claim goes with it.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::scope.eq(scope),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::response_status.eq(0_i16),
            idempotency_keys::response_body.eq(serde_json::Value::Null),
            idempotency_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|rows| rows == 1)
}

/// Records the answer of a claimed key, in the same transaction.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    scope: &str,
    key: &str,
    status: i16,
    body: &serde_json::Value,
) -> QueryResult<()> {
    crate::cached::cached(
        diesel::update(idempotency_keys::table.find((user_id, scope, key))).set((
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_body.eq(body),
        )),
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Deletes answers older than `before`.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
        .execute(conn)
        .await
}
