//! The JSON body extractor of every route: a 1 MiB cap (413 beyond it) and
//! deserialisation errors that name the offending field (400).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The largest body any route accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body of type `T`. Unknown fields are ignored (the apps send extras),
/// explicit `null` is fine for `Option` fields, and a wrong type is a
/// `VALIDATION_ERROR` whose `details.field` says which field.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read(req, payload);
        Box::pin(async move { parse(&body.await?).map(ApiJson) })
    }
}

/// The request's body, up to [`MAX_BODY_BYTES`] (413 beyond it, refused
/// from `Content-Length` before reading when it says so).
pub fn read(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<BytesMut, ApiError>> + 'static {
    let declared_len = declared_length(req);
    let payload = payload.take();
    async move {
        if declared_len.is_some_and(|len| len > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        read_capped(payload).await
    }
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge {
        limit_bytes: MAX_BODY_BYTES,
    }
}

async fn read_capped(mut payload: Payload) -> Result<BytesMut, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::invalid("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses `body` as `T`, naming the failing field's path on error.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    Ok(weelo_dispatch::wire::parse(body)?)
}
