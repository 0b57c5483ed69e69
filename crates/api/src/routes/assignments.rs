//! Assignments (docs/app-contract.md §3.10–3.11): the transporter confirms a hold with
//! a vehicle and driver per truck (or accepts one truck in one step), and
//! the driver lists, reads, accepts and declines its assignments.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_dispatch::ErrorCode;
use weelo_persistence::assignments::Pair;

use super::ok;
use crate::auth::{Authed, Caller, DriverRole, TransporterRole};
use crate::idempotent::{self, KeyedJson, Scoped};
use crate::{ApiError, ApiJson, AppState};
use weelo_dispatch::assignments::{self, Answer, queries};
use weelo_dispatch::idempotent::Keyed;

/// Mounts the assignment routes.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("assignments")
        .post(
            "/truck-hold/confirm-with-assignments",
            confirm,
            Doc::new(
                "Confirm a hold with a vehicle and a driver per truck",
                object,
            )
            .errors(&[
                E::HoldNotFound,
                E::HoldNotActive,
                E::HoldAlreadyConfirmed,
                E::HoldExpired,
                E::AssignmentValidationFailed,
                E::AssignmentConflict,
                E::DriverNotVerified,
            ]),
        )
        .post(
            "/orders/accept",
            accept_one,
            Doc::new(
                "Take one truck of an order with a vehicle and a driver",
                object,
            )
            .errors(&[
                E::OrderNotFound,
                E::TruckRequestNotFound,
                E::TruckNotAvailable,
                E::BroadcastExpired,
                E::NotNotified,
                E::AssignmentValidationFailed,
                E::AssignmentConflict,
                E::DriverNotVerified,
            ]),
        )
        .get(
            "/assignments/driver",
            of_driver,
            Doc::new("The driver's assignments", || page_of("assignments")),
        )
        .get(
            "/assignments/{id}",
            one,
            Doc::new(
                "One assignment, for its driver, transporter or customer",
                object,
            )
            .errors(&[E::AssignmentNotFound]),
        )
        .patch(
            "/assignments/{id}/accept",
            driver_accept,
            Doc::new("The driver accepts the trip", object).errors(&[
                E::AssignmentNotFound,
                E::AssignmentNotPending,
                E::AssignmentExpired,
            ]),
        )
        .patch(
            "/assignments/{id}/decline",
            driver_decline,
            Doc::new("The driver declines the trip; the truck reopens", object).errors(&[
                E::AssignmentNotFound,
                E::AssignmentNotPending,
                E::AssignmentExpired,
            ]),
        );
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PairBody {
    vehicle_id: Uuid,
    driver_id: Uuid,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ConfirmBody {
    hold_id: Uuid,
    assignments: Vec<PairBody>,
}

impl Scoped for ConfirmBody {
    const SCOPE: &'static str = "confirm-hold";
}

/// One vehicle and one driver per truck: no empty list, no repeats.
fn pairs_of(body: &[PairBody]) -> Result<Vec<Pair>, ApiError> {
    if body.is_empty() || body.len() > 50 {
        return Err(ApiError::invalid_field(
            "assignments",
            "name 1 to 50 vehicle and driver pairs",
        ));
    }
    let pairs: Vec<Pair> = body
        .iter()
        .map(|p| Pair {
            vehicle_id: p.vehicle_id,
            driver_id: p.driver_id,
        })
        .collect();
    for (i, pair) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|p| p.vehicle_id == pair.vehicle_id) {
            return Err(ApiError::invalid_field(
                format!("assignments[{i}].vehicleId"),
                "each vehicle may be named once",
            ));
        }
        if pairs[..i].iter().any(|p| p.driver_id == pair.driver_id) {
            return Err(ApiError::invalid_field(
                format!("assignments[{i}].driverId"),
                "each driver may be named once",
            ));
        }
    }
    Ok(pairs)
}

async fn respond(
    state: &AppState,
    answer: Answer,
    keyed: Option<&Keyed>,
    user: Uuid,
) -> Result<HttpResponse, ApiError> {
    match answer {
        Answer::Done(data) => Ok(ok(data)),
        Answer::Replay => idempotent::replay(state, keyed, user).await,
    }
}

async fn confirm(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: KeyedJson<ConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let KeyedJson {
        body: parsed,
        keyed,
    } = body;
    let pairs = pairs_of(&parsed.assignments)?;
    let transporter = caller.user_id();
    let answer =
        assignments::confirm(&state, transporter, parsed.hold_id, &pairs, keyed.as_ref()).await?;
    respond(&state, answer, keyed.as_ref(), transporter).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct AcceptOneBody {
    truck_request_id: Uuid,
    vehicle_id: Uuid,
    driver_id: Uuid,
}

impl Scoped for AcceptOneBody {
    const SCOPE: &'static str = "accept-truck";
}

/// `POST orders/accept`: hold one truck and confirm it in one step. Answers
/// with `assignmentId` and `tripId` at the top level too, as the old
/// clients read them.
async fn accept_one(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: KeyedJson<AcceptOneBody>,
) -> Result<HttpResponse, ApiError> {
    let KeyedJson {
        body: parsed,
        keyed,
    } = body;
    let transporter = caller.user_id();
    let pair = Pair {
        vehicle_id: parsed.vehicle_id,
        driver_id: parsed.driver_id,
    };
    let answer = assignments::accept_truck(
        &state,
        transporter,
        parsed.truck_request_id,
        pair,
        keyed.as_ref(),
    )
    .await?;
    let data = match answer {
        Answer::Done(data) => data,
        Answer::Replay => return idempotent::replay(&state, keyed.as_ref(), transporter).await,
    };
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(json!({
            "success": true,
            "assignmentId": data["assignmentIds"][0],
            "tripId": data["tripIds"][0],
            "message": "Truck assigned; waiting for the driver",
            "data": data,
        })))
}

#[derive(Deserialize, JsonSchema)]
struct ListQuery {
    status: Option<String>,
    page: Option<i64>,
    limit: Option<i64>,
}

async fn of_driver(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = super::bounded("page", query.page.unwrap_or(1), 1..=10_000)?;
    let limit = super::bounded("limit", query.limit.unwrap_or(20), 1..=100)?;
    let status = match query.status.as_deref().map(str::trim) {
        None | Some("" | "all") => None,
        Some(name) => Some(
            weelo_orders::AssignmentStatus::parse(name)
                .ok_or_else(|| ApiError::invalid_field("status", "unknown assignment status"))?
                .as_str(),
        ),
    };
    let data = queries::of_driver(&state.dispatch, caller.user_id(), status, page, limit).await?;
    Ok(ok(data))
}

/// One assignment, for its driver, its transporter or the order's customer.
async fn one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let data = queries::one(&state.dispatch, caller.role, caller.user_id, *id).await?;
    Ok(ok(data))
}

async fn driver_accept(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let keyed = idempotent::key_of(&req, "accept-assignment", &json!({ "id": *id }))?;
    let driver = caller.user_id();
    let answer = assignments::accept(&state, driver, *id, keyed.as_ref()).await?;
    respond(&state, answer, keyed.as_ref(), driver).await
}

#[derive(Deserialize, Default, JsonSchema)]
struct DeclineBody {
    reason: Option<String>,
}

async fn driver_decline(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Option<ApiJson<Value>>,
) -> Result<HttpResponse, ApiError> {
    let raw = body.map_or(Value::Null, |b| b.0);
    let parsed: DeclineBody = if raw.is_null() {
        DeclineBody::default()
    } else {
        crate::json::parse(raw.to_string().as_bytes())?
    };
    let reason = parsed.reason.as_deref().map(str::trim).unwrap_or_default();
    if reason.chars().count() > 500 {
        return Err(ApiError::invalid_field(
            "reason",
            "reason must be at most 500 characters",
        ));
    }
    let reason = if reason.is_empty() {
        "No reason provided"
    } else {
        reason
    };
    let keyed = idempotent::key_of(
        &req,
        "decline-assignment",
        &json!({ "id": *id, "reason": reason }),
    )?;
    let driver = caller.user_id();
    let answer = assignments::decline(&state, driver, *id, reason, keyed.as_ref()).await?;
    respond(&state, answer, keyed.as_ref(), driver).await
}
