//! The customer's orders: create, check-active, read, status, cancel, history.
//! Each canonical `bookings/orders/...` route has the legacy `orders/...`
//! alias the app falls back to.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::http::StatusCode;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;
use weelo_dispatch::ErrorCode;

use super::ok;
use crate::auth::{Authed, CustomerRole};
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::orders::{OrderError, cancel_policy, queries, service};

/// Mounts the order routes (fixed paths before `{id}`).
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    let not_found = [E::OrderNotFound];
    r.area("orders")
        .get(
            "/orders/check-active",
            check_active,
            Doc::new("Whether the customer has an order searching", || {
                obj(&[("hasActiveOrder", boolean()), ("activeOrder", any())])
            }),
        )
        .get(
            "/orders/pending-settlements",
            pending_settlements,
            Doc::new("Cancellation fees the customer still owes", || {
                obj(&[
                    ("count", int()),
                    ("items", array(object())),
                    ("totalPending", number()),
                ])
            }),
        );
    for path in [
        "/bookings/orders/{id}/cancel/dispute",
        "/orders/{id}/cancel/dispute",
    ] {
        r.post(
            path,
            open_dispute,
            Doc::new("Dispute a cancellation fee", object)
                .body_typed::<DisputeBody>()
                .status(201)
                .errors(&[E::OrderNotFound, E::CancelBlocked]),
        );
    }
    for path in ["/bookings/orders/{id}/disputes", "/orders/{id}/disputes"] {
        r.get(
            path,
            disputes,
            Doc::new("The order's disputes", object).errors(&not_found),
        );
    }
    for path in ["/bookings/orders", "/orders"] {
        r.post(
            path,
            create,
            Doc::new(
                "Order trucks: several vehicle types, a quantity of each",
                || obj(&[("order", object())]),
            )
            .status(201)
            .idempotent()
            .links(
                "id",
                "$response.body#/data/order/id",
                &[
                    ("GET", "/bookings/orders/{id}"),
                    ("GET", "/bookings/orders/{id}/status"),
                    ("GET", "/bookings/orders/{id}/cancel-preview"),
                    ("POST", "/bookings/orders/{id}/cancel"),
                    ("GET", "/bookings/{id}"),
                ],
            )
            .body_typed::<weelo_orders::input::OrderDraft>()
            .errors(&[
                E::ActiveOrderExists,
                E::MissingIdempotencyKey,
                E::IdempotencyConflict,
                E::PriceStale,
            ]),
        );
    }
    for path in ["/bookings/orders/{id}", "/orders/{id}"] {
        r.get(
            path,
            detail,
            Doc::new("An order with its trucks", object).errors(&not_found),
        );
    }
    for path in ["/bookings/orders/{id}/status", "/orders/{id}/status"] {
        r.get(
            path,
            status,
            Doc::new("Where an order's search stands", object).errors(&not_found),
        );
    }
    for path in [
        "/bookings/orders/{id}/cancel-preview",
        "/orders/{id}/cancel-preview",
    ] {
        r.get(
            path,
            cancel_preview,
            Doc::new("What cancelling now would cost", object).errors(&not_found),
        );
    }
    for path in ["/bookings/orders/{id}/cancel", "/orders/{id}/cancel"] {
        r.post(
            path,
            cancel,
            Doc::new("Cancel an order", object).errors(&[E::OrderNotFound, E::CancelBlocked]),
        );
    }
    // The legacy single-truck screen (`BookingRequestActivity`) cancels a
    // still-searching order here; the same cancel.
    r.patch(
        "/bookings/{id}/cancel",
        cancel,
        Doc::new("Cancel an order (the legacy screen's call)", object)
            .errors(&[E::OrderNotFound, E::CancelBlocked]),
    )
    .get(
        "/bookings",
        history,
        Doc::new("The customer's orders, newest first", || {
            page_of("bookings")
        }),
    )
    .get(
        "/bookings/{id}",
        booking,
        Doc::new("An order as the booking screen reads it", object).errors(&not_found),
    );
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

#[derive(Deserialize, Default, JsonSchema)]
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

#[derive(Deserialize, JsonSchema)]
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

#[derive(Deserialize, Default, JsonSchema)]
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
