//! The route table: one module per area, each exposing `configure`.

pub mod assignments;
pub mod auth;
pub mod broadcasts;
pub mod custom_bookings;
pub mod documents;
pub mod driver_auth;
pub mod driver_figures;
pub mod drivers;
pub mod health;
pub mod holds;
pub mod metrics;
pub mod notifications;
pub mod orders;
pub mod places;
pub mod presence;
pub mod pricing;
pub mod profile;
pub mod ratings;
pub mod tracking;
pub mod vehicles;

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use crate::ApiError;
use crate::openapi::Router;

/// Mounts every route, the extractor error handlers and the 404 fallback.
/// `GET /metrics` is not among them: the server mounts
/// [`metrics::configure`] on the public listener only where the operator
/// says so (`metrics.public`), or on a listener of its own.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(query_config())
        .app_data(path_config())
        .service(web::scope("/api/v1").configure(|cfg| {
            let mut router = Router::mounting(cfg);
            mount_all(&mut router);
        }))
        .default_service(web::to(route_not_found));
}

/// Every route of `/api/v1`, each with its description, in the order
/// actix matches them.
pub fn mount_all(r: &mut Router) {
    // First: a heartbeat every 5 s per transporter is the hottest route,
    // and matching is in registration order.
    presence::configure(r);
    health::configure(r);
    auth::configure(r);
    driver_auth::configure(r);
    profile::configure(r);
    // Before `vehicles/{id}`: `vehicles/pricing` is public.
    pricing::configure(r);
    vehicles::configure(r);
    documents::configure(r);
    drivers::configure(r);
    driver_figures::configure(r);
    notifications::configure(r);
    orders::configure(r);
    broadcasts::configure(r);
    holds::configure(r);
    assignments::configure(r);
    places::configure(r);
    tracking::configure(r);
    ratings::configure(r);
    custom_bookings::configure(r);
    crate::openapi::configure(r);
}

async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req: &HttpRequest| {
        ApiError::invalid(format!("invalid query: {error}")).into()
    })
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _req: &HttpRequest| {
        ApiError::invalid(format!("invalid path: {error}")).into()
    })
}

/// A query number (`limit`, `page`, `offset`) inside `range`, or a 400 that
/// names the field and the range.
pub(crate) fn bounded(
    field: &str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    if range.contains(&value) {
        return Ok(value);
    }
    Err(ApiError::invalid_field(
        field,
        format!(
            "{field} must be between {} and {}",
            range.start(),
            range.end()
        ),
    ))
}

/// `200 {"success": true, "data": …}`, never cached (the captain app caches
/// GETs unless told not to).
pub(crate) fn ok(data: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(json!({ "success": true, "data": data }))
}
