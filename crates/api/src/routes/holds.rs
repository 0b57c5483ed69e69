//! Holds (reference §3.10): a notified transporter claims searching trucks of
//! one line of an order. The claim is `FOR UPDATE SKIP LOCKED` in one
//! transaction, so each truck goes to exactly one transporter however many
//! press at once.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use diesel_async::AsyncConnection;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weelo_availability::VehicleKey;
use weelo_orders::OrderStatus;
use weelo_persistence::holds::{self, Hold, NewHold, Refused};
use weelo_persistence::{dispatch, orders};

use super::ok;
use crate::auth::{Authed, TransporterRole};
use crate::dto::iso;
use crate::orders::OrderError;
use crate::{ApiError, ApiJson, AppState, validate};

/// How long a hold lasts (DESIGN.md §4), capped by the order's remaining time.
pub const HOLD_SECS: i64 = 180;

/// Mounts `truck-hold/*`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/truck-hold/hold", web::post().to(hold))
        .route("/truck-hold/my-active", web::get().to(my_active))
        .route("/truck-hold/release", web::post().to(release));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HoldBody {
    order_id: Uuid,
    vehicle_type: String,
    vehicle_subtype: String,
    quantity: i32,
}

enum Outcome {
    Placed(Hold, Vec<Uuid>),
    Refused(Refused),
    NotNotified,
    Expired,
    Missing,
}

fn hold_json(hold: &Hold, trucks: Option<&[Uuid]>, now_ms: i64) -> serde_json::Value {
    json!({
        "holdId": hold.id,
        "orderId": hold.order_id,
        "vehicleType": hold.vehicle_type,
        "vehicleSubtype": hold.vehicle_subtype,
        "quantity": hold.quantity,
        "heldQuantity": hold.quantity,
        "truckRequestIds": trucks,
        "expiresAt": iso(hold.expires_at),
        "status": hold.status,
        "holdState": "FLEX",
        "phase": "FLEX",
        "canExtend": false,
        "serverTimeMs": now_ms,
    })
}

async fn hold(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<HoldBody>,
) -> Result<HttpResponse, ApiError> {
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
    let transporter = caller.user_id();
    let order_id = body.order_id;
    let quantity = body.quantity;
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let outcome = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let Some(order) = orders::find(conn, order_id).await? else {
                return Ok(Outcome::Missing);
            };
            if !dispatch::was_notified(conn, order_id, transporter).await? {
                return Ok(Outcome::NotNotified);
            }
            if !order.status().is_searching()
                || order.expires_at <= now
                || order.status() == OrderStatus::Cancelled
            {
                return Ok(Outcome::Expired);
            }
            let new = NewHold {
                transporter_id: transporter,
                order_id,
                vehicle_type: &vehicle_type,
                vehicle_subtype: &vehicle_subtype,
                vehicle_key: key.as_str(),
                quantity,
                expires_at: (now + Duration::seconds(HOLD_SECS)).min(order.expires_at),
            };
            Ok(match holds::place(conn, &new, now).await? {
                Ok((placed, trucks)) => Outcome::Placed(placed, trucks),
                Err(refused) => Outcome::Refused(refused),
            })
        })
        .await?;
    match outcome {
        Outcome::Placed(placed, trucks) => {
            tracing::info!(hold.id = %placed.id, order.id = %order_id, transporter.id = %transporter, hold.quantity = quantity, "trucks held");
            Ok(ok(hold_json(
                &placed,
                Some(&trucks),
                now.timestamp_millis(),
            )))
        }
        Outcome::Refused(Refused::AlreadyHolding(existing)) => Err(ApiError::Conflict {
            code: "ALREADY_HOLDING",
            message: "you already hold trucks of this order line".to_owned(),
            details: Some(
                json!({ "holdId": existing.id, "quantity": existing.quantity, "expiresAt": iso(existing.expires_at) }),
            ),
        }),
        Outcome::Refused(Refused::NotEnough { available }) => Err(ApiError::Conflict {
            code: "NOT_ENOUGH_AVAILABLE",
            message: format!("only {available} of these trucks are still open"),
            details: Some(json!({ "available": available })),
        }),
        Outcome::NotNotified => Err(ApiError::Forbidden {
            code: "NOT_NOTIFIED",
            message: "this order was not offered to you".to_owned(),
        }),
        Outcome::Expired => Err(ApiError::Conflict {
            code: "BROADCAST_EXPIRED",
            message: "this request has expired or was cancelled".to_owned(),
            details: None,
        }),
        Outcome::Missing => Err(OrderError::OrderNotFound.into()),
    }
}

async fn my_active(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let active = holds::active_of(&mut conn, caller.user_id(), now).await?;
    let all: Vec<_> = active
        .iter()
        .map(|h| hold_json(h, None, now.timestamp_millis()))
        .collect();
    let mut data = all
        .first()
        .cloned()
        .unwrap_or_else(|| json!({ "holdId": null, "status": "none" }));
    data["holds"] = json!(all);
    Ok(ok(data))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseBody {
    hold_id: Uuid,
}

async fn release(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<ReleaseBody>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (transporter, hold_id) = (caller.user_id(), body.hold_id);
    let mut conn = state.conn().await?;
    let released = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            holds::release(conn, transporter, hold_id, now).await
        })
        .await?;
    if !released {
        // The app treats this code as success (the hold is gone either way).
        return Err(ApiError::NotFound {
            code: "HOLD_NOT_FOUND",
            message: "no active hold with this id".to_owned(),
        });
    }
    tracing::info!(hold.id = %hold_id, transporter.id = %transporter, "hold released");
    Ok(ok(json!({ "holdId": hold_id, "status": "released" })))
}
