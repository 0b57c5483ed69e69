//! Places, routes and ETAs (docs/app-contract.md §3.13): place
//! search, reverse look-up, routes, the provider's status and the trucks'
//! ETAs on an order. Every geocoding call counts against the caller's
//! per-minute limit.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::places::endpoints::{self, PointBody, RouteBody, RouteMultiBody, SearchBody};

use super::ok;
use crate::auth::{Authed, Caller, CustomerRole};
use crate::{ApiError, ApiJson, AppState};

/// Mounts the routes.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("places")
        .post(
            "/geocoding/search",
            search,
            Doc::new("Places matching a text, nearest first", || array(object())),
        )
        .post(
            "/geocoding/reverse",
            reverse,
            Doc::new("The address of a point", object).errors(&[E::NotFound]),
        )
        .post(
            "/geocoding/route",
            route,
            Doc::new("Road distance and duration between two points", object),
        )
        .post(
            "/geocoding/route-multi",
            route_multi,
            Doc::new("Road distance and duration through stops", object),
        )
        .get(
            "/geocoding/status",
            status,
            Doc::new("Which maps provider answers, and its breaker", || {
                obj(&[("provider", string()), ("available", boolean())])
            }),
        )
        .get(
            "/tracking/booking/{order_id}/eta",
            eta,
            Doc::new("Each truck's time to the pickup or the drop", object)
                .errors(&[E::OrderNotFound]),
        );
}

async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    endpoints::take_call(&state, caller.user_id).await?;
    Ok(ok(endpoints::search(&state, &body.0).await?))
}

async fn reverse(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<PointBody>,
) -> Result<HttpResponse, ApiError> {
    endpoints::take_call(&state, caller.user_id).await?;
    Ok(ok(endpoints::reverse(&state, &body.0).await?))
}

async fn route(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<RouteBody>,
) -> Result<HttpResponse, ApiError> {
    endpoints::take_call(&state, caller.user_id).await?;
    Ok(ok(endpoints::route(&state, &body.0).await?))
}

async fn route_multi(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<RouteMultiBody>,
) -> Result<HttpResponse, ApiError> {
    endpoints::take_call(&state, caller.user_id).await?;
    Ok(ok(endpoints::route_multi(&state, &body.0).await?))
}

async fn status(state: web::Data<AppState>, _caller: Caller) -> HttpResponse {
    ok(state.places.status())
}

async fn eta(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    order_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(endpoints::booking_eta(
        &state,
        caller.user_id(),
        *order_id,
    )
    .await?))
}
