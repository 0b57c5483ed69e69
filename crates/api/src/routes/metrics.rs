//! `GET /metrics`: Prometheus text, served at the root, outside `/api/v1`.

use actix_web::{HttpResponse, web};

use crate::{ApiError, AppState};

/// Mounts the metrics route at the root.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(render));
}

async fn render(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let vitals = weelo_dispatch::vitals::read(&state.dispatch).await;
    let body = state.metrics.render(&vitals)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
