//! Holds (reference §3.10): a notified transporter claims searching trucks of
//! one line of an order. The claim is `FOR UPDATE SKIP LOCKED` in one
//! transaction, so each truck goes to exactly one transporter however many
//! press at once.

use actix_web::{HttpRequest, HttpResponse, web};
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
use crate::idempotent::{self, Tx};
use crate::limits::Kind;
use crate::orders::OrderError;
use crate::{ApiError, ApiJson, AppState, validate};

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
    req: HttpRequest,
    raw: ApiJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    state
        .limits
        .check(caller.user_id(), Kind::Hold, state.clock.now())?;
    let keyed = idempotent::key_of(&req, "hold", &raw.0)?;
    let body: HoldBody = crate::json::parse(raw.0.to_string().as_bytes())?;
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
    let hold_secs = state.orders.hold_secs;
    let keyed = keyed.as_ref();
    let mut conn = state.conn().await?;
    let placed = conn
        .transaction::<_, Tx<ApiError>, _>(async |conn| {
            if !idempotent::claim(conn, keyed, transporter, now).await? {
                return Ok(None);
            }
            let Some(order) = orders::find_shared(conn, order_id).await? else {
                return Err(Tx::Refused(OrderError::OrderNotFound.into()));
            };
            if !dispatch::was_notified(conn, order_id, transporter).await? {
                return Err(Tx::Refused(ApiError::Forbidden {
                    code: "NOT_NOTIFIED",
                    message: "this order was not offered to you".to_owned(),
                }));
            }
            if dispatch::has_declined(conn, order_id, transporter).await? {
                return Err(Tx::Refused(ApiError::Forbidden {
                    code: "BROADCAST_DECLINED",
                    message: "you declined this request; it comes back if a truck is offered again"
                        .to_owned(),
                }));
            }
            if matches!(
                order.status(),
                OrderStatus::FullyFilled | OrderStatus::InProgress | OrderStatus::Completed
            ) {
                // Filled, not expired: the app must not show "cancelled".
                return Err(Tx::Refused(refusal(Refused::NotEnough { available: 0 })));
            }
            if !order.status().is_searching() || order.expires_at <= now {
                return Err(Tx::Refused(ApiError::Conflict {
                    code: "BROADCAST_EXPIRED",
                    message: "this request has expired or was cancelled".to_owned(),
                    details: None,
                }));
            }
            // Holding the line already says more than counting vehicles.
            if let Some(existing) =
                holds::active_for(conn, transporter, order_id, key.as_str()).await?
            {
                let summary = holds::HoldSummary::from(&existing);
                return Err(Tx::Refused(refusal(Refused::AlreadyHolding(Box::new(
                    summary,
                )))));
            }
            let spare = holds::spare_vehicles(conn, transporter, key.as_str(), now).await?;
            if i64::from(quantity) > spare {
                return Err(Tx::Refused(ApiError::Conflict {
                    code: "NOT_ENOUGH_VEHICLES",
                    message: format!(
                        "you have {spare} free vehicle(s) of this type for {quantity} truck(s)"
                    ),
                    details: Some(json!({ "freeVehicles": spare, "requested": quantity })),
                }));
            }
            let new = NewHold {
                transporter_id: transporter,
                order_id,
                vehicle_type: &vehicle_type,
                vehicle_subtype: &vehicle_subtype,
                vehicle_key: key.as_str(),
                quantity,
                expires_at: (now + Duration::seconds(hold_secs)).min(order.expires_at),
            };
            let (placed, trucks) = holds::place(conn, &new, now)
                .await?
                .map_err(|refused| Tx::Refused(refusal(refused)))?;
            let data = hold_json(&placed, Some(&trucks), now.timestamp_millis());
            idempotent::complete(conn, keyed, transporter, &data).await?;
            Ok(Some((placed, data)))
        })
        .await?;
    let Some((placed, data)) = placed else {
        return idempotent::replay(&state, keyed, transporter).await;
    };
    tracing::info!(hold.id = %placed.id, order.id = %order_id, transporter.id = %transporter, hold.quantity = quantity, "trucks held");
    Ok(ok(data))
}

fn refusal(refused: Refused) -> ApiError {
    match refused {
        Refused::AlreadyHolding(existing) => ApiError::Conflict {
            code: "ALREADY_HOLDING",
            message: "you already hold trucks of this order line".to_owned(),
            details: Some(
                json!({ "holdId": existing.id, "quantity": existing.quantity, "expiresAt": iso(existing.expires_at) }),
            ),
        },
        Refused::NotEnough { available } => ApiError::Conflict {
            code: "NOT_ENOUGH_AVAILABLE",
            message: format!("only {available} of these trucks are still open"),
            details: Some(json!({ "available": available })),
        },
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
