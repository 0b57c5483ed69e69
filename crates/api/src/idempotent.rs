//! `X-Idempotency-Key` at the edge: reading a request's key with its body
//! ([`KeyedJson`], the body read once), and answering a replay. The claim
//! and the stored answer happen inside the use case's transaction (see
//! `weelo_dispatch::idempotent`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_dispatch::idempotent::Keyed;
use weelo_dispatch::orders::service::body_hash;

use crate::{ApiError, AppState};

/// The endpoint a keyed body belongs to: keys are unique per scope.
pub trait Scoped {
    /// The scope its keys are stored under.
    const SCOPE: &'static str;
}

/// A retried mutation's JSON body, read once: typed, with the request's key
/// (when it sent one) and the hash of the body it came with.
#[derive(Debug)]
pub struct KeyedJson<T> {
    /// The typed body.
    pub body: T,
    /// The key and the body's hash, when `X-Idempotency-Key` was sent.
    pub keyed: Option<Keyed>,
}

impl<T: DeserializeOwned + Scoped + 'static> FromRequest for KeyedJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = raw_key(req);
        let body = crate::json::read(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            // Malformed JSON first, then a bad key, then the body's fields.
            let value: Value = crate::json::parse(&bytes)?;
            let keyed = key?.map(|key| Keyed::new(T::SCOPE, key, body_hash(&value.to_string())));
            let body = crate::json::parse(&bytes)?;
            Ok(Self { body, keyed })
        })
    }
}

/// The key of a request whose identity is its path, not a body (`scope`
/// and the `identity` the path names).
pub fn key_of(
    req: &HttpRequest,
    scope: &'static str,
    identity: &Value,
) -> Result<Option<Keyed>, ApiError> {
    Ok(raw_key(req)?.map(|key| Keyed::new(scope, key, body_hash(&identity.to_string()))))
}

/// `X-Idempotency-Key`, if sent: 1 to 128 printable characters.
fn raw_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
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
    Ok(Some(key.to_owned()))
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
