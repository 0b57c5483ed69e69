//! The transporter's broadcast feed (reference §3.9): the active broadcasts
//! it was sent, and dismissing one. These answers put their fields at the
//! top level, as the captain app reads them.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weelo_persistence::{dispatch, outbox};

use crate::auth::{Authed, TransporterRole};
use crate::limits::Kind;
use crate::{ApiError, AppState};
use weelo_dispatch::ErrorCode;

/// Mounts `broadcasts/*`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/broadcasts/active", web::get().to(active))
        .route("/broadcasts/{id}", web::get().to(one))
        .route("/broadcasts/{id}/decline", web::post().to(decline))
        .route("/transporter/dispatch/replay", web::get().to(replay))
        .route("/bookings/requests/active", web::get().to(requests))
        .route(
            "/bookings/orders/{id}/broadcast-snapshot",
            web::get().to(snapshot),
        );
}

async fn active(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let broadcasts = weelo_dispatch::broadcast::feed(&state, caller.user_id()).await?;
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
        return Err(ApiError::refused(
            ErrorCode::BroadcastNotFound,
            "no such broadcast was sent to you",
        ));
    }
    Ok(HttpResponse::Ok().json(json!({ "success": true, "message": "Broadcast declined" })))
}

async fn one(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let broadcasts = weelo_dispatch::broadcast::feed(&state, caller.user_id()).await?;
    let found = broadcasts
        .into_iter()
        .find(|b| b["orderId"] == json!(*id))
        .ok_or_else(|| {
            ApiError::refused(
                ErrorCode::BroadcastNotFound,
                "no such active broadcast was sent to you",
            )
        })?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(json!({ "success": true, "broadcast": found })))
}

#[derive(Deserialize)]
struct ReplayQuery {
    cursor: Option<i64>,
    limit: Option<i64>,
}

/// The captain app's event names for what the outbox calls its topics.
fn event_type(topic: &str) -> &str {
    match topic {
        "new_broadcast" => "broadcast_created",
        "broadcast_state_changed" => "broadcast_updated",
        other => other,
    }
}

/// The largest cursor accepted: 2^53 - 1.
const MAX_CURSOR: i64 = 9_007_199_254_740_991;

async fn replay(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    query: web::Query<ReplayQuery>,
) -> Result<HttpResponse, ApiError> {
    // A sequence a JavaScript number holds exactly; beyond it no real
    // cursor exists, and `cursor + 1` below must not overflow.
    let cursor = crate::routes::bounded("cursor", query.cursor.unwrap_or(0), 0..=MAX_CURSOR)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            "limit must be between 1 and 200",
        ));
    }
    state
        .limits
        .check(caller.user_id(), Kind::Backlog, state.clock.now())?;
    let room = format!("transporter:{}", caller.user_id());
    let mut conn = state.conn().await?;
    // What committed a moment ago is numbered now, so this page has it.
    outbox::number_committed(&mut conn).await?;
    let mut events = outbox::for_room_after(&mut conn, &room, cursor, limit + 1).await?;
    let has_more = events.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let oldest = outbox::oldest_seq(&mut conn).await?.unwrap_or(0);
    let next = events.last().map_or(cursor, |event| event.sequence());
    let items: Vec<_> = events
        .iter()
        .map(|event| {
            json!({
                "sequence": event.sequence(),
                "orderId": event.order_id,
                "eventType": event_type(&event.topic),
                "dispatchRevision": event.payload.get("dispatchRevision").cloned().unwrap_or(json!(1)),
                "orderLifecycleVersion": event.payload.get("orderLifecycleVersion").cloned().unwrap_or(json!(1)),
                "payload": event.payload,
                "createdAt": crate::dto::iso(event.created_at),
            })
        })
        .collect();
    Ok(crate::routes::ok(json!({
        "cursor": next,
        "cursorType": "sequence",
        // Events before the oldest kept one were pruned: the client must
        // rebuild from the full list.
        "snapshotRequired": cursor > 0 && cursor + 1 < oldest,
        "hasMore": has_more,
        "replayWindowStart": oldest,
        "replayWindowEnd": next,
        "events": items,
    })))
}

async fn requests(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let orders = weelo_dispatch::broadcast::active_requests(&state, caller.user_id()).await?;
    Ok(crate::routes::ok(json!({
        "count": orders.len(),
        "orders": orders,
        "syncCursor": state.clock.now().timestamp_millis(),
        "snapshotUnchanged": false,
    })))
}

async fn snapshot(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = weelo_dispatch::broadcast::snapshot(&state, caller.user_id(), *id)
        .await?
        .ok_or(weelo_dispatch::orders::OrderError::OrderNotFound)?;
    Ok(crate::routes::ok(snapshot))
}
