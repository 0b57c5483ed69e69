//! The transporter's broadcast feed (reference §3.9): the active broadcasts
//! it was sent, and dismissing one. These answers put their fields at the
//! top level, as the captain app reads them.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use serde_json::json;
use uuid::Uuid;
use weelo_persistence::dispatch;

use crate::auth::{Authed, TransporterRole};
use crate::{ApiError, AppState};

/// Mounts `broadcasts/*`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/broadcasts/active", web::get().to(active))
        .route("/broadcasts/{id}/decline", web::post().to(decline));
}

async fn active(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let broadcasts = crate::dispatch::feed(&state, caller.user_id()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(json!({
            "success": true,
            "broadcasts": broadcasts,
            "count": broadcasts.len(),
            "syncCursor": state.clock.now().timestamp_millis(),
        })))
}

async fn decline(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    if !dispatch::decline(&mut conn, *id, caller.user_id(), state.clock.now()).await? {
        return Err(ApiError::NotFound {
            code: "BROADCAST_NOT_FOUND",
            message: "no such broadcast was sent to you".to_owned(),
        });
    }
    Ok(HttpResponse::Ok().json(json!({ "success": true, "message": "Broadcast declined" })))
}
