//! Trips and tracking (docs/app-contract.md §3.5, §3.12, §3.13): the driver's status
//! updates and GPS batches, and the live views of the driver, the
//! customer and the transporter.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpRequest, HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_dispatch::ErrorCode;

use super::ok;
use crate::auth::{Authed, Caller, CustomerRole, DriverRole, TransporterRole};
use crate::idempotent;
use crate::limits::Kind;
use crate::{ApiError, ApiJson, AppState};
use weelo_dispatch::assignments::Answer;
use weelo_dispatch::tracking::ingest::Source;
use weelo_dispatch::tracking::queries;
use weelo_dispatch::tracking::status;
use weelo_persistence::assignments::Whose;

/// Mounts the tracking routes (the fixed paths before `tracking/{tripId}`).
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("tracking")
        .put(
            "/tracking/trip/{trip_id}/status",
            set_status,
            Doc::new("The driver moves the trip forward", object)
                .errors(&[E::TripNotFound, E::InvalidTransition]),
        )
        .post(
            "/tracking/batch",
            batch,
            Doc::new("GPS points recorded while offline", object).errors(&[E::TripNotFound]),
        )
        .get(
            "/tracking/active-trip",
            active_trip,
            Doc::new(
                "The driver's trip under way, or null",
                || nullable(object()),
            ),
        )
        .get(
            "/tracking/fleet",
            fleet,
            Doc::new("Where the transporter's trucks on trips are", || {
                obj(&[("drivers", array(object())), ("activeDrivers", int())])
            }),
        )
        .get(
            "/tracking/booking/{order_id}",
            booking,
            Doc::new("The trucks of the customer's order, live", object)
                .errors(&[E::OrderNotFound]),
        )
        .get(
            "/tracking/{trip_id}",
            one,
            Doc::new("One trip's position and status", object).errors(&[E::TripNotFound]),
        )
        .get(
            "/bookings/{order_id}/trucks",
            booking_trucks,
            Doc::new("The trucks assigned to the customer's order", object)
                .errors(&[E::OrderNotFound]),
        )
        .get(
            "/driver/trips/active",
            driver_active,
            Doc::new("The driver's trip under way", || {
                obj(&[("hasActiveTrip", boolean()), ("trip", any())])
            }),
        )
        .get(
            "/driver/trips",
            driver_trips,
            Doc::new("A driver's past trips", || {
                obj(&[
                    ("trips", array(object())),
                    ("total", int()),
                    ("hasMore", boolean()),
                ])
            })
            .errors(&[E::DriverNotFound]),
        );
}

#[derive(Deserialize, JsonSchema)]
struct StatusBody {
    status: String,
}

async fn set_status(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    req: HttpRequest,
    trip_id: web::Path<Uuid>,
    parsed: ApiJson<StatusBody>,
) -> Result<HttpResponse, ApiError> {
    let keyed = idempotent::key_of(
        &req,
        "trip-status",
        &json!({ "trip": *trip_id, "status": parsed.status }),
    )?;
    let driver = caller.user_id();
    let word = parsed.status.trim().to_ascii_lowercase();
    match status::change(&state, driver, *trip_id, &word, keyed.as_ref()).await? {
        Answer::Done(data) => Ok(ok(data)),
        Answer::Replay => idempotent::replay(&state, keyed.as_ref(), driver).await,
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct BatchBody {
    trip_id: Uuid,
    points: Vec<Value>,
}

async fn batch(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    body: ApiJson<BatchBody>,
) -> Result<HttpResponse, ApiError> {
    state
        .limits
        .check(caller.user_id(), Kind::GpsBatch, state.clock.now())?;
    let report = state
        .tracking
        .ingest(caller.user_id(), body.trip_id, &body.points, Source::Batch)
        .await?;
    let mut data = json!(report);
    data["tripId"] = json!(body.trip_id);
    Ok(ok(data))
}

async fn one(
    state: web::Data<AppState>,
    caller: Caller,
    trip_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let data = queries::marker(&state.dispatch, caller.role, caller.user_id, *trip_id).await?;
    Ok(ok(data))
}

async fn active_trip(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        queries::active_of(&state.dispatch, caller.user_id()).await?
    ))
}

async fn driver_active(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    let trip = queries::active_of(&state.dispatch, caller.user_id()).await?;
    Ok(ok(
        json!({ "hasActiveTrip": !trip.is_null(), "trip": trip }),
    ))
}

async fn fleet(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(queries::fleet(&state.dispatch, caller.user_id()).await?))
}

async fn booking(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    order_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(queries::booking(
        &state.dispatch,
        caller.user_id(),
        *order_id,
    )
    .await?))
}

async fn booking_trucks(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    order_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let data = queries::booking_trucks(&state.dispatch, caller.user_id(), *order_id).await?;
    Ok(ok(data))
}

#[derive(Deserialize, JsonSchema)]
struct HistoryQuery {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    driver_id: Option<String>,
}

/// The driver's trips; for a transporter, its whole fleet's (the Trips
/// tab) or one of its drivers' (`driverId`).
async fn driver_trips(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = super::bounded("limit", query.limit.unwrap_or(50), 1..=100)?;
    let offset = super::bounded("offset", query.offset.unwrap_or(0), 0..=100_000)?;
    let status = match query.status.as_deref().map(str::trim) {
        None | Some("" | "all") => None,
        Some("completed") => Some("completed"),
        Some("cancelled") => Some("cancelled"),
        Some("in_transit") => Some("in_transit"),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "status",
                "status must be completed, cancelled or in_transit",
            ));
        }
    };
    let wanted = super::driver_figures::driver_id(query.driver_id.as_deref())?;
    let whose = match (caller.role, wanted) {
        (weelo_orders::Role::Transporter, None) => Whose::Fleet(caller.user_id),
        (role, wanted) => Whose::Driver(
            weelo_dispatch::drivers::subject(&state.dispatch, role, caller.user_id, wanted)
                .await?
                .id,
        ),
    };
    let data = queries::driver_trips(&state.dispatch, whose, status, limit, offset).await?;
    Ok(ok(data))
}
