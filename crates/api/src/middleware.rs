//! The middleware every request passes: a request id (taken from a sane
//! `X-Request-Id` or made up) echoed on every response, an access log line in a
//! span carrying that id, and the request metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument;

use crate::AppState;

/// The header carrying the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Whether a request may have committed outbox events: a successful
/// mutation, except the high-rate presence and GPS calls, which write none.
fn changes_state(method: &str, route: &str, status: u16) -> bool {
    method != "GET"
        && (200..300).contains(&status)
        && !route.ends_with("/transporter/heartbeat")
        && !route.ends_with("/tracking/batch")
}

/// Tags, logs and measures one request.
pub async fn observe_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("http.request", request.id = %request_id, http.method = %method);

    let outcome = next.call(req).instrument(span.clone()).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => return Err(error),
    };

    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(state) = &state
        && changes_state(&method, &route, status)
    {
        state.wake_relay();
    }
    if let Some(state) = state {
        state
            .metrics
            .observe(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            http.route = %route,
            http.status = status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "{method} {route} answered {status}"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// A client-supplied id is kept only if it is short and plain, so it cannot
/// inject anything into logs or headers.
fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    (!value.is_empty() && value.len() <= 64 && value.chars().all(plain)).then(|| value.to_owned())
}
