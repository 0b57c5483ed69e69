//! `X-Idempotency-Key` at the edge: reading a request's key (the claim and
//! the stored answer happen inside the use case's transaction, see
//! `weelo_dispatch::idempotent`) and answering a replay.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_dispatch::idempotent::Keyed;
use weelo_dispatch::orders::service::body_hash;

use crate::{ApiError, AppState};

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
    Ok(Some(Keyed::new(
        scope,
        key.to_owned(),
        body_hash(&body.to_string()),
    )))
}

/// The stored answer of `keyed` as a replay, or `409 IDEMPOTENCY_CONFLICT`
/// when the key answered another body.
pub async fn replay(
    state: &AppState,
    keyed: Option<&Keyed>,
    user_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    let data = weelo_dispatch::idempotent::stored_answer(&state.dispatch, keyed, user_id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header(("X-Idempotent-Replay", "true"))
        .json(json!({ "success": true, "data": data })))
}
