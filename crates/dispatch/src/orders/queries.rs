//! What the customer app reads about its orders: the active one (from the
//! Redis mirror when it has it), one order's detail, status and cancel
//! preview, the history and one booking, each in the app's shape.

use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::orders;

use super::OrderError;
use super::dto;
use super::mirror::{self, StatusSnapshot};
use crate::{Dispatch, DispatchError};

/// The customer's order with its trucks, on one connection.
async fn load_with_trucks(
    state: &Dispatch,
    customer_id: Uuid,
    id: Uuid,
) -> Result<(orders::Order, Vec<orders::TruckRequest>), DispatchError> {
    let mut conn = state.conn().await?;
    let order = orders::find_for_customer(&mut conn, customer_id, id)
        .await?
        .ok_or(OrderError::OrderNotFound)?;
    let trucks = orders::trucks_of(&mut conn, order.id).await?;
    Ok((order, trucks))
}

async fn load(
    state: &Dispatch,
    customer_id: Uuid,
    id: Uuid,
) -> Result<orders::Order, DispatchError> {
    let mut conn = state.conn().await?;
    Ok(orders::find_for_customer(&mut conn, customer_id, id)
        .await?
        .ok_or(OrderError::OrderNotFound)?)
}

/// Whether the customer has a searching order, and its summary.
pub async fn check_active(state: &Dispatch, customer: Uuid) -> Result<Value, DispatchError> {
    let now = state.clock.now();
    let active = match mirror::active(&state.cache, customer, now).await {
        Some(snapshot) => snapshot.order,
        None => {
            let mut conn = state.conn().await?;
            let order = orders::searching_of(&mut conn, customer, now).await?;
            if let Some(order) = &order {
                mirror::publish(&state.cache, order).await;
            }
            order.as_ref().map(StatusSnapshot::from)
        }
    };
    let summary = active.as_ref().map(|order| dto::active_summary(order, now));
    Ok(json!({
        "hasActiveOrder": summary.is_some(),
        "activeOrder": summary,
        "serverTimeMs": now.timestamp_millis(),
    }))
}

/// One order of the customer's with its trucks.
pub async fn detail(state: &Dispatch, customer: Uuid, id: Uuid) -> Result<Value, DispatchError> {
    let (order, trucks) = load_with_trucks(state, customer, id).await?;
    let now = state.clock.now();
    let mut data = dto::detail(&order, &trucks, now, state.orders.search_window_secs);
    // Each taken truck with its vehicle, driver and trip (the booking
    // screen shows who is coming; a cancelled one shows who was).
    let mut conn = state.conn().await?;
    let running = weelo_persistence::trips::of_order(&mut conn, order.id).await?;
    let driver_ids: Vec<Uuid> = running.iter().map(|a| a.driver_id).collect();
    let drivers = weelo_persistence::users::find_many(&mut conn, &driver_ids).await?;
    drop(conn);
    for list in ["requests", "truckRequests"] {
        let Some(requests) = data[list].as_array_mut() else {
            continue;
        };
        for request in requests {
            let Some(a) = running
                .iter()
                .rev()
                .find(|a| request["id"] == json!(a.truck_request_id))
            else {
                continue;
            };
            let driver = drivers.iter().find(|d| d.id == a.driver_id);
            request["assignmentId"] = json!(a.id);
            request["tripId"] = json!(a.trip_id);
            request["assignedTransporterId"] = json!(a.transporter_id);
            request["assignedVehicleNumber"] = json!(a.vehicle_number);
            request["assignedDriverName"] = json!(driver.and_then(|d| d.name.clone()));
            request["assignedDriverPhone"] = json!(driver.map(|d| d.phone.clone()));
            request["assignmentStatus"] = json!(a.status().trip_word());
        }
    }
    Ok(data)
}

/// One order's status (from the mirror when it has it).
pub async fn status(state: &Dispatch, customer: Uuid, id: Uuid) -> Result<Value, DispatchError> {
    let now = state.clock.now();
    if let Some(snapshot) = mirror::status(&state.cache, id, now).await
        && snapshot.customer_id == customer
    {
        return Ok(dto::status_of(&snapshot, now));
    }
    let order = load(state, customer, id).await?;
    mirror::publish(&state.cache, &order).await;
    Ok(dto::status(&order, now))
}

/// What cancelling the order now would mean.
pub async fn cancel_preview(
    state: &Dispatch,
    customer: Uuid,
    id: Uuid,
) -> Result<Value, DispatchError> {
    let order = load(state, customer, id).await?;
    let status = order.status();
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let priced = super::cancel_policy::price(&mut conn, order.id, now).await?;
    let on_the_road = orders::has_a_truck_on_the_road(&mut conn, order.id).await?;
    drop(conn);
    let mut answer = priced.fields();
    if status.is_terminal() {
        answer = json!({ "cancelDecision": "allowed", "policyStage": order.status.as_str(),
            "reasonRequired": false, "pendingPenaltyAmount": 0, "settlementState": "none" });
    } else if !status.is_cancellable() || on_the_road {
        answer["cancelDecision"] = json!("blocked_dispute_only");
        answer["settlementState"] = json!("waived");
    }
    answer["orderId"] = json!(order.id);
    answer["status"] = json!(order.status);
    answer["eventVersion"] = json!(order.version);
    answer["serverTimeMs"] = json!(now.timestamp_millis());
    Ok(answer)
}

/// Page `number` (from 1) of the customer's orders, newest first.
pub async fn history(
    state: &Dispatch,
    customer: Uuid,
    number: i64,
    limit: i64,
) -> Result<Value, DispatchError> {
    let offset = (number - 1).saturating_mul(limit);
    let mut conn = state.conn().await?;
    let (rows, total) = orders::history(&mut conn, customer, limit, offset).await?;
    let ids: Vec<Uuid> = rows.iter().map(|o| o.id).collect();
    let trucks = orders::trucks_of_many(&mut conn, &ids).await?;
    let rated = weelo_persistence::ratings::rated_counts(&mut conn, &ids).await?;
    let bookings: Vec<Value> = rows
        .iter()
        .map(|order| {
            let mine: Vec<_> = trucks
                .iter()
                .filter(|t| t.order_id == order.id)
                .cloned()
                .collect();
            dto::booking(
                order,
                &mine,
                rated.get(&order.id).copied().unwrap_or((0, 0)),
            )
        })
        .collect();
    let shown = offset.saturating_add(i64::try_from(bookings.len()).unwrap_or(0));
    Ok(json!({
        "bookings": bookings,
        "total": total,
        "page": number,
        "limit": limit,
        "hasMore": shown < total,
    }))
}

/// One order of the customer's in the booking shape.
pub async fn booking(state: &Dispatch, customer: Uuid, id: Uuid) -> Result<Value, DispatchError> {
    let (order, trucks) = load_with_trucks(state, customer, id).await?;
    let mut conn = state.conn().await?;
    let rated = weelo_persistence::ratings::rated_counts(&mut conn, &[order.id]).await?;
    let rated = rated.get(&order.id).copied().unwrap_or((0, 0));
    Ok(json!({ "booking": dto::booking(&order, &trucks, rated) }))
}

/// Whether `order_id` is `customer`'s.
pub async fn is_customers(
    state: &Dispatch,
    customer: Uuid,
    order_id: Uuid,
) -> Result<bool, DispatchError> {
    let mut conn = state.conn().await?;
    Ok(orders::find_for_customer(&mut conn, customer, order_id)
        .await?
        .is_some())
}
