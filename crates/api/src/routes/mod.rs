//! The route table: one module per area, each exposing `configure`.

pub mod health;
pub mod metrics;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::ApiError;

/// Mounts every route, the extractor error handlers and the 404 fallback.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(query_config())
        .app_data(path_config())
        .configure(metrics::configure)
        .service(web::scope("/api/v1").configure(health::configure))
        .default_service(web::to(route_not_found));
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
