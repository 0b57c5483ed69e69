//! `X-Idempotency-Key` for the captain app's retried mutations (hold,
//! confirm, release, driver answers): the key is claimed inside the
//! change's transaction and its answer stored there, so a retry with the
//! same key and body gets the same answer and changes nothing, and the same
//! key with another body is `409 IDEMPOTENCY_CONFLICT`. Refusals roll back
//! (claim included), so a retry after fixing the cause is a fresh attempt.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::idempotency;

use crate::orders::OrderError;
use crate::orders::service::body_hash;
use crate::{ApiError, AppState};

/// A request's idempotency key, scoped to one endpoint, with its body's hash.
#[derive(Debug, Clone)]
pub struct Keyed {
    scope: &'static str,
    key: String,
    hash: String,
}

/// The key of a request, if it sent one (the captain app always does).
pub fn key_of(
    req: &HttpRequest,
    scope: &'static str,
    body: &Value,
) -> Result<Option<Keyed>, ApiError> {
    let Some(raw) = req.headers().get("x-idempotency-key") else {
        return Ok(None);
    };
    let key = raw.to_str().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field(
            "X-Idempotency-Key",
            "X-Idempotency-Key must be 1 to 128 printable characters",
        ));
    }
    Ok(Some(Keyed {
        scope,
        key: key.to_owned(),
        hash: body_hash(&body.to_string()),
    }))
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

impl<E: Into<ApiError>> From<Tx<E>> for ApiError {
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
/// answered another body.
pub async fn replay(
    state: &AppState,
    keyed: Option<&Keyed>,
    user_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    let Some(k) = keyed else {
        return Err(OrderError::IdempotencyConflict.into());
    };
    let mut conn = state.conn().await?;
    let stored = idempotency::find(&mut conn, user_id, k.scope, &k.key).await?;
    match stored {
        Some(stored) if stored.request_hash == k.hash => Ok(HttpResponse::Ok()
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .insert_header(("X-Idempotent-Replay", "true"))
            .json(json!({ "success": true, "data": stored.response_body }))),
        _ => Err(OrderError::IdempotencyConflict.into()),
    }
}
