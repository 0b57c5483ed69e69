//! The customer's orders: create, check-active, read, status, cancel, history.
//! Each canonical `bookings/orders/...` route has the legacy `orders/...`
//! alias the app falls back to.

use actix_web::http::StatusCode;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::orders;

use super::ok;
use crate::auth::{Authed, CustomerRole};
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::orders::mirror::{self, StatusSnapshot};
use weelo_dispatch::orders::{OrderError, dto, service};

/// Mounts the order routes (fixed paths before `{id}`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders/check-active", web::get().to(check_active))
        .route("/bookings/orders", web::post().to(create))
        .route("/orders", web::post().to(create))
        .route("/bookings/orders/{id}", web::get().to(detail))
        .route("/orders/{id}", web::get().to(detail))
        .route("/bookings/orders/{id}/status", web::get().to(status))
        .route("/orders/{id}/status", web::get().to(status))
        .route(
            "/bookings/orders/{id}/cancel-preview",
            web::get().to(cancel_preview),
        )
        .route("/orders/{id}/cancel-preview", web::get().to(cancel_preview))
        .route("/bookings/orders/{id}/cancel", web::post().to(cancel))
        .route("/orders/{id}/cancel", web::post().to(cancel))
        .route("/bookings", web::get().to(history))
        .route("/bookings/{id}", web::get().to(booking));
}

fn idempotency_key(req: &HttpRequest) -> Result<String, ApiError> {
    let key = req
        .headers()
        .get("x-idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .ok_or(OrderError::MissingIdempotencyKey)?;
    if key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field(
            "X-Idempotency-Key",
            "X-Idempotency-Key must be 1 to 128 printable characters",
        ));
    }
    Ok(key.to_owned())
}

async fn create(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    req: HttpRequest,
    body: ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let answer = service::create(&state, caller.user_id(), &key, body.0).await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    Ok(HttpResponse::build(status)
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((
            "X-Idempotent-Replay",
            if answer.replayed { "true" } else { "false" },
        ))
        .content_type("application/json")
        .body(format!(r#"{{"success":true,"data":{}}}"#, answer.data)))
}

/// The customer's order with its trucks, on one connection.
async fn load_with_trucks(
    state: &AppState,
    customer_id: Uuid,
    id: Uuid,
) -> Result<(orders::Order, Vec<orders::TruckRequest>), ApiError> {
    let mut conn = state.conn().await?;
    let order = orders::find_for_customer(&mut conn, customer_id, id)
        .await?
        .ok_or(OrderError::OrderNotFound)?;
    let trucks = orders::trucks_of(&mut conn, order.id).await?;
    Ok((order, trucks))
}

async fn load(state: &AppState, customer_id: Uuid, id: Uuid) -> Result<orders::Order, ApiError> {
    let mut conn = state.conn().await?;
    Ok(orders::find_for_customer(&mut conn, customer_id, id)
        .await?
        .ok_or(OrderError::OrderNotFound)?)
}

async fn check_active(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let active = match mirror::active(&state.cache, caller.user_id(), now).await {
        Some(snapshot) => snapshot.order,
        None => {
            let mut conn = state.conn().await?;
            let order = orders::searching_of(&mut conn, caller.user_id(), now).await?;
            if let Some(order) = &order {
                mirror::publish(&state.cache, order).await;
            }
            order.as_ref().map(StatusSnapshot::from)
        }
    };
    let summary = active.as_ref().map(|order| dto::active_summary(order, now));
    Ok(ok(json!({
        "hasActiveOrder": summary.is_some(),
        "activeOrder": summary,
        "serverTimeMs": now.timestamp_millis(),
    })))
}

async fn detail(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (order, trucks) = load_with_trucks(&state, caller.user_id(), *id).await?;
    let now = state.clock.now();
    Ok(ok(dto::detail(
        &order,
        &trucks,
        now,
        state.orders.search_window_secs,
    )))
}

async fn status(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    if let Some(snapshot) = mirror::status(&state.cache, *id, now).await
        && snapshot.customer_id == caller.user_id()
    {
        return Ok(ok(dto::status_of(&snapshot, now)));
    }
    let order = load(&state, caller.user_id(), *id).await?;
    mirror::publish(&state.cache, &order).await;
    Ok(ok(dto::status(&order, now)))
}

async fn cancel_preview(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let order = load(&state, caller.user_id(), *id).await?;
    let status = order.status();
    let mut conn = state.conn().await?;
    let on_the_road =
        weelo_persistence::orders::has_a_truck_on_the_road(&mut conn, order.id).await?;
    drop(conn);
    let decision = if status.is_terminal() || (status.is_cancellable() && !on_the_road) {
        "allowed"
    } else {
        "blocked_dispute_only"
    };
    Ok(ok(json!({
        "orderId": order.id,
        "status": order.status,
        "cancelDecision": decision,
        "reasonRequired": false,
        "pendingPenaltyAmount": 0,
        "policyStage": if status.is_searching() { "searching" } else { order.status.as_str() },
        "settlementState": "none",
        "eventVersion": order.version,
        "serverTimeMs": state.clock.now().timestamp_millis(),
    })))
}

#[derive(Deserialize, Default)]
struct CancelBody {
    reason: Option<String>,
}

async fn cancel(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        crate::json::parse(&body)?
    };
    let reason = validate::text("reason", body.reason.as_deref(), 200)?;
    Ok(ok(service::cancel(
        &state,
        caller.user_id(),
        *id,
        reason.as_deref(),
    )
    .await?))
}

#[derive(Deserialize)]
struct Page {
    page: Option<i64>,
    limit: Option<i64>,
}

async fn history(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let number = page.page.unwrap_or(1);
    let limit = page.limit.unwrap_or(20);
    if number < 1 {
        return Err(ApiError::invalid_field("page", "page starts at 1"));
    }
    let limit = super::bounded("limit", limit, 1..=100)?;
    let offset = (number - 1).saturating_mul(limit);
    let mut conn = state.conn().await?;
    let (rows, total) = orders::history(&mut conn, caller.user_id(), limit, offset).await?;
    let ids: Vec<Uuid> = rows.iter().map(|o| o.id).collect();
    let trucks = orders::trucks_of_many(&mut conn, &ids).await?;
    let bookings: Vec<Value> = rows
        .iter()
        .map(|order| {
            let mine: Vec<_> = trucks
                .iter()
                .filter(|t| t.order_id == order.id)
                .cloned()
                .collect();
            dto::booking(order, &mine)
        })
        .collect();
    let shown = offset.saturating_add(i64::try_from(bookings.len()).unwrap_or(0));
    Ok(ok(json!({
        "bookings": bookings,
        "total": total,
        "page": number,
        "limit": limit,
        "hasMore": shown < total,
    })))
}

async fn booking(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (order, trucks) = load_with_trucks(&state, caller.user_id(), *id).await?;
    Ok(ok(json!({ "booking": dto::booking(&order, &trucks) })))
}
