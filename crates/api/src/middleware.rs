//! The middleware every request passes: a request id (taken from a sane
//! `X-Request-Id` or made up) echoed on every response, an access log line in a
//! span carrying that id, the request metrics, and the refusal of methods
//! outside the standard seven (405 in the envelope), so no client-chosen
//! token ever becomes a metric label or a log field.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};
use tracing::Instrument;

use crate::{ApiError, AppState};

/// The header carrying the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The method as a metric label and log field: one of the seven standard
/// methods the routes can match, else `OTHER` (a closed set, whatever the
/// client sends).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Tags, logs and measures one request.
pub async fn observe_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("http.request", request.id = %request_id, http.method = %method);

    let mut response = if method == "OTHER" {
        let refused = ApiError::MethodNotAllowed.error_response();
        req.into_response(refused).map_into_right_body()
    } else {
        next.call(req)
            .instrument(span.clone())
            .await?
            .map_into_left_body()
    };

    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .observe(method, &route, status, elapsed.as_secs_f64());
    }
    // A load balancer's health probes (every 2 s per instance) answered
    // well are debug; everything else, failed probes included, is info.
    let probe = route.starts_with("/api/v1/health") && status < 400;
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if probe {
            tracing::debug!(http.route = %route, http.status = status, elapsed_ms, "{method} {route} answered {status}");
        } else {
            tracing::info!(http.route = %route, http.status = status, elapsed_ms, "{method} {route} answered {status}");
        }
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
