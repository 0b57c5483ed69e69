//! The transporter's broadcast feed (docs/app-contract.md §3.9): the active broadcasts
//! it was sent, and dismissing one. These answers put their fields at the
//! top level, as the captain app reads them.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weelo_dispatch::broadcast;

use crate::auth::{Authed, TransporterRole};
use crate::limits::Kind;
use crate::{ApiError, AppState};
use weelo_dispatch::ErrorCode;

/// Mounts `broadcasts/*`.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("broadcasts")
        .get(
            "/broadcasts/active",
            active,
            Doc::new(
                "The orders offered to this transporter now (beside `success`, no `data`)",
                || {
                    obj(&[
                        ("broadcasts", array(object())),
                        ("count", int()),
                        ("syncCursor", int()),
                    ])
                },
            )
            .flat(),
        )
        .get(
            "/broadcasts/{id}",
            one,
            Doc::new("One offered order", object).errors(&[E::BroadcastNotFound]),
        )
        .post(
            "/broadcasts/{id}/decline",
            decline,
            Doc::new("Decline an offered order", object).errors(&[E::BroadcastNotFound]),
        )
        .get(
            "/transporter/dispatch/replay",
            replay,
            Doc::new(
                "The transporter's events after a sequence number (a reconnect's backlog)",
                || obj(&[("events", array(object())), ("hasMore", boolean())]),
            ),
        )
        .get(
            "/bookings/requests/active",
            requests,
            Doc::new("The truck requests offered to this transporter now", || {
                obj(&[
                    ("orders", array(object())),
                    ("count", int()),
                    ("syncCursor", int()),
                ])
            }),
        )
        .get(
            "/bookings/orders/{id}/broadcast-snapshot",
            snapshot,
            Doc::new("An offered order as it stands", object)
                .errors(&[E::BroadcastNotFound, E::OrderNotFound]),
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
    broadcast::decline(&state.dispatch, caller.user_id(), *id).await?;
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

#[derive(Deserialize, JsonSchema)]
struct ReplayQuery {
    cursor: Option<i64>,
    limit: Option<i64>,
}

/// The captain app's event names for what the outbox calls its topics.
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
    let page = broadcast::replay(&state.dispatch, caller.user_id(), cursor, limit).await?;
    Ok(crate::routes::ok(page))
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
