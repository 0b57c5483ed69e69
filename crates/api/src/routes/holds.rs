//! `truck-hold/*` (docs/app-contract.md §3.10): the captain app's hold, its live holds
//! and release. The use case is `weelo_dispatch::holds`.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;
use weelo_availability::VehicleKey;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::assignments::Answer;
use weelo_dispatch::holds::{self, HoldRequest};

use super::ok;
use crate::auth::{Authed, TransporterRole};
use crate::idempotent::{self, KeyedJson, Scoped};
use crate::limits::Kind;
use crate::{ApiError, ApiJson, AppState, validate};

/// Mounts `truck-hold/*`.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("holds")
        .post(
            "/truck-hold/hold",
            hold,
            Doc::new(
                "Hold trucks of an order while choosing vehicles and drivers",
                object,
            )
            .errors(&[
                E::OrderNotFound,
                E::BroadcastExpired,
                E::NotNotified,
                E::AlreadyHolding,
                E::NotEnoughAvailable,
                E::NotEnoughVehicles,
                E::BroadcastDeclined,
            ]),
        )
        .get(
            "/truck-hold/my-active",
            my_active,
            Doc::new("The transporter's hold in force, or null", || {
                nullable(object())
            }),
        )
        .post(
            "/truck-hold/release",
            release,
            Doc::new("Give held trucks back", object).errors(&[E::HoldNotFound, E::HoldNotActive]),
        );
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct HoldBody {
    order_id: Uuid,
    vehicle_type: String,
    vehicle_subtype: String,
    quantity: i32,
}

impl Scoped for HoldBody {
    const SCOPE: &'static str = "hold";
}

async fn hold(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    keyed_body: KeyedJson<HoldBody>,
) -> Result<HttpResponse, ApiError> {
    state
        .limits
        .check(caller.user_id(), Kind::Hold, state.clock.now())?;
    let KeyedJson { body, keyed } = keyed_body;
    if !(1..=50).contains(&body.quantity) {
        return Err(ApiError::invalid_field(
            "quantity",
            "quantity must be between 1 and 50",
        ));
    }
    let vehicle_type = validate::required_text("vehicleType", Some(&body.vehicle_type), 30)?;
    let vehicle_subtype =
        validate::required_text("vehicleSubtype", Some(&body.vehicle_subtype), 60)?;
    let key = VehicleKey::new(&vehicle_type, &vehicle_subtype)
        .map_err(|error| ApiError::invalid_field("vehicleType", error.to_string()))?;
    let request = HoldRequest {
        order_id: body.order_id,
        vehicle_type,
        vehicle_subtype,
        key,
        quantity: body.quantity,
    };
    let transporter = caller.user_id();
    match holds::place(&state.dispatch, transporter, &request, keyed.as_ref()).await? {
        Answer::Done(data) => Ok(ok(data)),
        Answer::Replay => idempotent::replay(&state, keyed.as_ref(), transporter).await,
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ActiveQuery {
    order_id: Option<Uuid>,
    vehicle_type: Option<String>,
    vehicle_subtype: Option<String>,
}

/// The transporter's live hold of one order line (`orderId`,
/// `vehicleType`, `vehicleSubtype`, as the app reconciles an uncertain
/// hold), or of any without them; `data: null` when there is none.
async fn my_active(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    query: web::Query<ActiveQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = match (&query.vehicle_type, &query.vehicle_subtype) {
        (Some(kind), subtype) => Some(
            VehicleKey::new(kind, subtype.as_deref().unwrap_or_default())
                .map_err(|error| ApiError::invalid_field("vehicleType", error.to_string()))?,
        ),
        (None, Some(_)) => {
            return Err(ApiError::invalid_field(
                "vehicleType",
                "vehicleSubtype needs vehicleType",
            ));
        }
        (None, None) => None,
    };
    let of = match (query.order_id, key.as_ref()) {
        (Some(order), Some(key)) => Some((order, key)),
        (None, None) => None,
        _ => {
            return Err(ApiError::invalid_field(
                "orderId",
                "orderId and vehicleType go together",
            ));
        }
    };
    Ok(ok(
        holds::active(&state.dispatch, caller.user_id(), of).await?
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ReleaseBody {
    hold_id: Uuid,
}

async fn release(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<ReleaseBody>,
) -> Result<HttpResponse, ApiError> {
    let data = holds::release(&state.dispatch, caller.user_id(), body.hold_id).await?;
    Ok(ok(data))
}
