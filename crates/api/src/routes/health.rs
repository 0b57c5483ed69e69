//! `GET /health` (liveness) and `GET /health/ready` (PostgreSQL and Redis).

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;
use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};

/// Mounts the health routes under the API scope.
pub fn configure(r: &mut Router) {
    r.area("health")
        .get(
            "/health",
            liveness,
            Doc::new("Liveness: the process serves HTTP", || {
                obj(&[("status", one_of(&["ok"]))])
            }),
        )
        .get(
            "/health/ready",
            readiness,
            Doc::new(
                "Readiness: PostgreSQL and Redis answer (503 naming which does not)",
                || {
                    obj(&[
                        ("status", one_of(&["ready"])),
                        (
                            "checks",
                            obj(&[("database", string()), ("redis", string())]),
                        ),
                    ])
                },
            ),
        );
}

/// 200 while the process serves HTTP; it checks nothing else on purpose, so an
/// orchestrator never restarts us for a database outage.
async fn liveness() -> HttpResponse {
    no_store(HttpResponse::Ok()).json(json!({ "success": true, "data": { "status": "ok" } }))
}

/// 200 only when PostgreSQL and Redis both answer; otherwise 503 naming which
/// failed. Both are probed at once, each bounded by its pool's timeouts.
async fn readiness(state: web::Data<AppState>) -> HttpResponse {
    let (database, redis) = tokio::join!(
        weelo_persistence::check_ready(&state.db),
        state.cache.ping()
    );
    let checks = json!({
        "database": check_status(&database),
        "redis": check_status(&redis),
    });
    if database.is_ok() && redis.is_ok() {
        return no_store(HttpResponse::Ok())
            .json(json!({ "success": true, "data": { "status": "ready", "checks": checks } }));
    }
    let failed: Vec<&str> = [("database", database.is_err()), ("redis", redis.is_err())]
        .into_iter()
        .filter_map(|(name, failed)| failed.then_some(name))
        .collect();
    if let Err(error) = &database {
        tracing::warn!(error.cause = %error, "readiness: database check failed");
    }
    if let Err(error) = &redis {
        tracing::warn!(error.cause = %error, "readiness: redis check failed");
    }
    no_store(HttpResponse::ServiceUnavailable()).json(json!({
        "success": false,
        "error": {
            "code": "SERVICE_UNAVAILABLE",
            "message": format!("not ready: {} unavailable", failed.join(" and ")),
            "details": { "checks": checks, "failed": failed },
        }
    }))
}

fn check_status<E>(result: &Result<(), E>) -> &'static str {
    if result.is_ok() { "up" } else { "down" }
}

fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")));
    builder
}
