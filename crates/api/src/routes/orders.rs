//! The customer's orders: create, check-active, read, status, cancel, history.
//! Each canonical `bookings/orders/...` route has the legacy `orders/...`
//! alias the app falls back to.

use actix_web::http::StatusCode;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::ok;
use crate::auth::{Authed, CustomerRole};
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::orders::{OrderError, cancel_policy, queries, service};

/// Mounts the order routes (fixed paths before `{id}`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders/check-active", web::get().to(check_active))
        .route(
            "/orders/pending-settlements",
            web::get().to(pending_settlements),
        )
        .route(
            "/bookings/orders/{id}/cancel/dispute",
            web::post().to(open_dispute),
        )
        .route("/orders/{id}/cancel/dispute", web::post().to(open_dispute))
        .route("/bookings/orders/{id}/disputes", web::get().to(disputes))
        .route("/orders/{id}/disputes", web::get().to(disputes))
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
        // The legacy single-truck screen (`BookingRequestActivity`) cancels
        // a still-searching order here; the same cancel.
        .route("/bookings/{id}/cancel", web::patch().to(cancel))
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

async fn check_active(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        queries::check_active(&state.dispatch, caller.user_id()).await?
    ))
}

async fn detail(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        queries::detail(&state.dispatch, caller.user_id(), *id).await?
    ))
}

async fn status(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        queries::status(&state.dispatch, caller.user_id(), *id).await?
    ))
}

async fn cancel_preview(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let data = queries::cancel_preview(&state.dispatch, caller.user_id(), *id).await?;
    Ok(ok(data))
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
    let data = queries::history(&state.dispatch, caller.user_id(), number, limit).await?;
    Ok(ok(data))
}

async fn booking(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        queries::booking(&state.dispatch, caller.user_id(), *id).await?
    ))
}

async fn pending_settlements(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(cancel_policy::pending_settlements(
        &state.dispatch,
        caller.user_id(),
    )
    .await?))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DisputeBody {
    reason_code: Option<String>,
    notes: Option<String>,
}

async fn open_dispute(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: DisputeBody = if body.iter().all(u8::is_ascii_whitespace) {
        DisputeBody::default()
    } else {
        crate::json::parse(&body)?
    };
    let reason_code = validate::text("reasonCode", body.reason_code.as_deref(), 60)?;
    let notes = validate::text("notes", body.notes.as_deref(), 1000)?;
    let data = cancel_policy::open_dispute(
        &state.dispatch,
        caller.user_id(),
        *id,
        reason_code.as_deref(),
        notes.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "success": true, "data": data })))
}

async fn disputes(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(cancel_policy::disputes(
        &state.dispatch,
        caller.user_id(),
        *id,
    )
    .await?))
}
