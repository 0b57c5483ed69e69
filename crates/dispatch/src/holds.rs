//! Holds (docs/app-contract.md §3.10): a notified transporter claims searching trucks of
//! one line of an order. The claim is `FOR UPDATE SKIP LOCKED` in one
//! transaction, so each truck goes to exactly one transporter however many
//! press at once; releasing gives them back.

use chrono::Duration;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_availability::VehicleKey;
use weelo_orders::OrderStatus;
use weelo_persistence::holds::{self, Hold, NewHold, Refused};
use weelo_persistence::{dispatch, orders};

use crate::assignments::Answer;
use crate::idempotent::{self, Change, Keyed, Tx};
use crate::orders::OrderError;
use crate::wire::iso;
use crate::{Dispatch, DispatchError, ErrorCode};

/// What a transporter asks to hold: `quantity` trucks of one order line.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    /// The order.
    pub order_id: Uuid,
    /// The line's vehicle type, as the app sent it.
    pub vehicle_type: String,
    /// The line's subtype, as the app sent it.
    pub vehicle_subtype: String,
    /// The normalised key of type and subtype.
    pub key: VehicleKey,
    /// Trucks wanted (1 to 50, checked at the edge).
    pub quantity: i32,
}

/// A hold in the captain app's shape.
pub fn hold_json(hold: &Hold, trucks: Option<&[Uuid]>, now_ms: i64) -> Value {
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

/// Holds `request.quantity` searching trucks of an order `transporter` was
/// told about, all or nothing, until the hold window (capped by the order's
/// own) runs out.
pub async fn place(
    dispatch: &Dispatch,
    transporter: Uuid,
    request: &HoldRequest,
    keyed: Option<&Keyed>,
) -> Result<Answer, DispatchError> {
    let now = dispatch.clock.now();
    let hold_secs = dispatch.orders.hold_secs;
    let (order_id, quantity, key) = (request.order_id, request.quantity, &request.key);
    let placed = idempotent::run(dispatch, keyed, transporter, async |conn| {
        let Some(order) = orders::find_shared(conn, order_id).await? else {
            return Err(Tx::Refused(OrderError::OrderNotFound.into()));
        };
        if !dispatch::was_notified(conn, order_id, transporter).await? {
            return Err(Tx::Refused(DispatchError::refused(
                ErrorCode::NotNotified,
                "this order was not offered to you",
            )));
        }
        if dispatch::has_declined(conn, order_id, transporter).await? {
            return Err(Tx::Refused(DispatchError::refused(
                ErrorCode::BroadcastDeclined,
                "you declined this request; it comes back if a truck is offered again",
            )));
        }
        if matches!(
            order.status(),
            OrderStatus::FullyFilled | OrderStatus::InProgress | OrderStatus::Completed
        ) {
            // Filled, not expired: the app must not show "cancelled".
            return Err(Tx::Refused(refusal(Refused::NotEnough { available: 0 })));
        }
        if !order.status().is_searching() || order.expires_at <= now {
            return Err(Tx::Refused(DispatchError::refused(
                ErrorCode::BroadcastExpired,
                "this request has expired or was cancelled",
            )));
        }
        // Holding the line already says more than counting vehicles.
        if let Some(existing) = holds::active_for(conn, transporter, order_id, key.as_str()).await?
        {
            let summary = holds::HoldSummary::from(&existing);
            return Err(Tx::Refused(refusal(Refused::AlreadyHolding(Box::new(
                summary,
            )))));
        }
        let spare = holds::spare_vehicles(conn, transporter, key.as_str(), now).await?;
        if i64::from(quantity) > spare {
            return Err(Tx::Refused(DispatchError::refused_with(
                ErrorCode::NotEnoughVehicles,
                format!("you have {spare} free vehicle(s) of this type for {quantity} truck(s)"),
                json!({ "freeVehicles": spare, "requested": quantity }),
            )));
        }
        let new = NewHold {
            transporter_id: transporter,
            order_id,
            vehicle_type: &request.vehicle_type,
            vehicle_subtype: &request.vehicle_subtype,
            vehicle_key: key.as_str(),
            quantity,
            expires_at: (now + Duration::seconds(hold_secs)).min(order.expires_at),
        };
        let (placed, trucks) = holds::place(conn, &new, now)
            .await?
            .map_err(|refused| Tx::Refused(refusal(refused)))?;
        let answer = hold_json(&placed, Some(&trucks), now.timestamp_millis());
        Ok(Change {
            outcome: placed,
            answer,
            events: Vec::new(),
        })
    })
    .await?;
    let Some((placed, data)) = placed else {
        return Ok(Answer::Replay);
    };
    tracing::info!(hold.id = %placed.id, order.id = %order_id, transporter.id = %transporter, hold.quantity = quantity, "trucks held");
    Ok(Answer::Done(data))
}

fn refusal(refused: Refused) -> DispatchError {
    match refused {
        Refused::AlreadyHolding(existing) => DispatchError::refused_with(
            ErrorCode::AlreadyHolding,
            "you already hold trucks of this order line",
            json!({ "holdId": existing.id, "quantity": existing.quantity, "expiresAt": iso(existing.expires_at) }),
        ),
        Refused::NotEnough { available } => DispatchError::refused_with(
            ErrorCode::NotEnoughAvailable,
            format!("only {available} of these trucks are still open"),
            json!({ "available": available }),
        ),
    }
}

/// The transporter's live holds: the first one's fields at the top (what
/// the app reads) and all of them under `holds`.
pub async fn active(
    dispatch: &Dispatch,
    transporter: Uuid,
    of: Option<(Uuid, &weelo_availability::VehicleKey)>,
) -> Result<Value, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let active = holds::active_of(&mut conn, transporter, now).await?;
    let matching: Vec<_> = active
        .iter()
        .filter(|h| {
            of.is_none_or(|(order, key)| h.order_id == order && h.vehicle_key == key.as_str())
        })
        .collect();
    let all: Vec<_> = matching
        .iter()
        .map(|h| hold_json(h, None, now.timestamp_millis()))
        .collect();
    // No hold is `data: null`: the app reads `data ?: no hold`, and a
    // placeholder with a null `holdId` would pass for a hold.
    let Some(mut data) = all.first().cloned() else {
        return Ok(Value::Null);
    };
    data["holds"] = json!(all);
    Ok(data)
}

/// Gives a live hold's trucks back to the search.
pub async fn release(
    dispatch: &Dispatch,
    transporter: Uuid,
    hold_id: Uuid,
) -> Result<Value, DispatchError> {
    let now = dispatch.clock.now();
    let ran = idempotent::run::<_, DispatchError, _>(dispatch, None, transporter, async |conn| {
        let released = holds::release(conn, transporter, hold_id, now).await?;
        Ok(Change {
            outcome: released,
            answer: Value::Null,
            events: Vec::new(),
        })
    })
    .await?;
    if !ran.is_some_and(|(released, _)| released) {
        // The app treats this code as success (the hold is gone either way).
        return Err(DispatchError::refused(
            ErrorCode::HoldNotFound,
            "no active hold with this id",
        ));
    }
    tracing::info!(hold.id = %hold_id, transporter.id = %transporter, "hold released");
    Ok(json!({ "holdId": hold_id, "status": "released" }))
}
