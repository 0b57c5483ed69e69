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
        let declared_len = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            if declared_len.is_some_and(|len| len > MAX_BODY_BYTES) {
                return Err(too_large());
            }
            let body = read_capped(payload).await?;
            parse(&body).map(ApiJson)
        })
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
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("the request body must be a JSON object"));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = strip_position(&inner);
        if inner.is_syntax() || inner.is_eof() {
            ApiError::invalid(format!("malformed JSON: {inner}"))
        } else if let Some(missing) = missing_field(&message) {
            // serde reports a missing field at its parent's path.
            let field = if path == "." {
                missing.to_owned()
            } else {
                format!("{path}.{missing}")
            };
            ApiError::invalid_field(field.clone(), format!("{field} is required"))
        } else if path == "." {
            ApiError::invalid(format!("invalid request body: {inner}"))
        } else {
            ApiError::invalid_field(path, format!("invalid value: {message}"))
        }
    })
}

/// The name in serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// serde_json appends "at line 1 column 17", which says nothing to an app.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::ApiError;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Line {
        quantity: u32,
        note: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Order {
        lines: Vec<Line>,
    }

    fn field_of(error: ApiError) -> Option<String> {
        match error {
            ApiError::Validation { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn a_wrong_type_names_the_nested_field() {
        let error = parse::<Order>(br#"{"lines":[{"quantity":1},{"quantity":"two"}]}"#);
        let field = error.err().and_then(field_of);
        assert_eq!(field.as_deref(), Some("lines[1].quantity"));
    }

    #[test]
    fn explicit_null_and_unknown_fields_are_accepted() {
        let order = parse::<Order>(br#"{"lines":[{"quantity":2,"note":null,"extra":true}]}"#);
        assert!(order.is_ok(), "{order:?}");
    }

    #[test]
    fn malformed_json_and_empty_bodies_are_validation_errors_without_a_field() {
        for body in [&b"{\"lines\": ["[..], b"", b"   "] {
            match parse::<Order>(body) {
                Err(ApiError::Validation { field: None, .. }) => {}
                other => panic!("body {body:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_field_is_reported() {
        let error = parse::<Order>(br#"{"lines":[{"note":"x"}]}"#);
        assert_eq!(
            field_of(error.unwrap_err()).as_deref(),
            Some("lines[0].quantity")
        );
        let error = parse::<Order>(br#"{}"#);
        assert_eq!(field_of(error.unwrap_err()).as_deref(), Some("lines"));
    }
}
