//! The transporter's side of dispatch, read: the feed of live broadcasts
//! (`broadcasts/active`, `bookings/requests/active`) and one order's
//! broadcast snapshot, in the captain app's shapes.

use std::collections::HashMap;

use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::dispatch as persisted;
use weelo_persistence::orders::{Order, TruckRequest};
use weelo_persistence::{PersistenceError, dispatch, outbox};

use super::{PickupReach, broadcast, groups};
use crate::events::{Event, Room, names};
use crate::wire::iso;
use crate::{Dispatch, DispatchError, ErrorCode};

/// The transporter's feed: every searching order it was told about and has
/// not declined, as personalised `new_broadcast` payloads, newest first.
pub async fn feed(state: &Dispatch, transporter: Uuid) -> Result<Vec<Value>, PersistenceError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let active = dispatch::active_for(&mut conn, transporter, now).await?;
    if active.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = active.iter().map(|(order, _)| order.id).collect();
    let all_trucks = weelo_persistence::orders::trucks_of_many(&mut conn, &ids).await?;
    let counts = dispatch::free_vehicle_counts(&mut conn, &[transporter]).await?;
    let free = |key: &str| {
        counts
            .iter()
            .find(|(_, k, _)| k == key)
            .map_or(0, |(_, _, n)| usize::try_from(*n).unwrap_or(0))
    };
    Ok(active
        .iter()
        .map(|(order, distance_m)| {
            let trucks: Vec<TruckRequest> = all_trucks
                .iter()
                .filter(|t| t.order_id == order.id)
                .cloned()
                .collect();
            let groups = groups(&trucks);
            let mut mine: Vec<usize> = (0..groups.len())
                .filter(|i| free(groups[*i].key) > 0)
                .collect();
            if mine.is_empty() {
                mine.push(0);
            }
            let can_provide = mine
                .iter()
                .map(|i| free(groups[*i].key).min(groups[*i].open))
                .sum();
            let reach = PickupReach::of(
                *distance_m,
                state.places.settings(),
                groups[mine[0]].vehicle_type,
            );
            Event::NewBroadcast(Box::new(broadcast(
                order,
                &groups,
                &mine,
                can_provide,
                reach,
                now.timestamp_millis(),
                order.dispatch_attempts.max(1),
            )))
            .payload()
        })
        .collect())
}

/// `bookings/requests/active`: the transporter's active broadcasts as
/// `{order: OrderInfo, requests: [TruckRequestInfo]}` (docs/app-contract.md §3.9 step 3).
/// The customer's phone is masked: transporters see it only once assigned.
pub async fn active_requests(
    state: &Dispatch,
    transporter: Uuid,
) -> Result<Vec<Value>, PersistenceError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let active = dispatch::active_for(&mut conn, transporter, now).await?;
    let ids: Vec<Uuid> = active.iter().map(|(order, _)| order.id).collect();
    let trucks = weelo_persistence::orders::trucks_of_many(&mut conn, &ids).await?;
    let mut customers: HashMap<Uuid, (Option<String>, String)> = HashMap::new();
    for (order, _) in &active {
        if let std::collections::hash_map::Entry::Vacant(slot) = customers.entry(order.customer_id)
            && let Some(user) = weelo_persistence::users::find(&mut conn, order.customer_id).await?
        {
            slot.insert((user.name, crate::wire::mask_phone(&user.phone)));
        }
    }
    Ok(active
        .iter()
        .map(|(order, _)| {
            let customer = customers
                .get(&order.customer_id)
                .cloned()
                .unwrap_or((None, String::new()));
            let mine: Vec<TruckRequest> = trucks
                .iter()
                .filter(|t| t.order_id == order.id)
                .cloned()
                .collect();
            json!({ "order": order_info(order, customer), "requests": requests_info(&mine) })
        })
        .collect())
}

/// `OrderInfo` of the captain app: flat coordinates, masked customer phone.
pub fn order_info(order: &Order, customer: (Option<String>, String)) -> Value {
    let flat = |lat: f64,
                lng: f64,
                address: &str,
                city: &Option<String>,
                state: &Option<String>| {
        json!({ "latitude": lat, "longitude": lng, "address": address, "city": city, "state": state })
    };
    json!({
        "id": order.id, "customerId": order.customer_id,
        "customerName": customer.0.unwrap_or_else(|| "Customer".to_owned()), "customerPhone": customer.1,
        "pickup": flat(order.pickup_latitude, order.pickup_longitude, &order.pickup_address, &order.pickup_city, &order.pickup_state),
        "drop": flat(order.drop_latitude, order.drop_longitude, &order.drop_address, &order.drop_city, &order.drop_state),
        "status": order.status, "expiresAt": iso(order.expires_at), "createdAt": iso(order.created_at),
        "distanceKm": order.distance_km, "totalTrucks": order.total_trucks, "trucksFilled": order.trucks_filled,
        "totalAmount": order.total_amount, "goodsType": order.goods_type,
        "dispatchRevision": order.dispatch_attempts, "lifecycleEventVersion": order.version,
    })
}

/// `TruckRequestInfo`s of the captain app.
pub fn requests_info(trucks: &[TruckRequest]) -> Vec<Value> {
    trucks
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "orderId": t.order_id, "requestNumber": t.request_number,
                "vehicleType": t.vehicle_type, "vehicleSubtype": t.vehicle_subtype,
                "pricePerTruck": t.price_per_truck, "status": t.status,
                "assignedTransporterId": t.transporter_id, "createdAt": iso(t.created_at),
            })
        })
        .collect()
}

/// `bookings/orders/{id}/broadcast-snapshot` for a transporter told about
/// the order (also once it is over, so the app can drop it); `None` otherwise.
pub async fn snapshot(
    state: &Dispatch,
    transporter: Uuid,
    order_id: Uuid,
) -> Result<Option<Value>, PersistenceError> {
    let mut conn = state.conn().await?;
    if !dispatch::was_notified(&mut conn, order_id, transporter).await? {
        return Ok(None);
    }
    let Some(order) = weelo_persistence::orders::find(&mut conn, order_id).await? else {
        return Ok(None);
    };
    let trucks = weelo_persistence::orders::trucks_of(&mut conn, order_id).await?;
    let customer = weelo_persistence::users::find(&mut conn, order.customer_id)
        .await?
        .map_or((None, String::new()), |user| {
            (user.name, crate::wire::mask_phone(&user.phone))
        });
    let now = state.clock.now();
    Ok(Some(json!({
        "orderId": order.id,
        "state": order.status,
        "status": order.status,
        "dispatchState": order.dispatch_state,
        "reasonCode": order.reason_code,
        "dispatchRevision": order.dispatch_attempts,
        "orderLifecycleVersion": order.version,
        "eventVersion": order.version,
        "serverTimeMs": now.timestamp_millis(),
        "expiresAtMs": order.expires_at.timestamp_millis(),
        "cursorType": "sequence",
        "order": order_info(&order, customer),
        "requests": requests_info(&trucks),
    })))
}

/// Declines the order `order_id` offered to `transporter`: it leaves the
/// feed until a truck of it is offered again.
pub async fn decline(
    dispatch: &Dispatch,
    transporter: Uuid,
    order_id: Uuid,
) -> Result<(), DispatchError> {
    let mut conn = dispatch.conn().await?;
    if persisted::decline(&mut conn, order_id, transporter, dispatch.clock.now()).await? {
        Ok(())
    } else {
        Err(DispatchError::refused(
            ErrorCode::BroadcastNotFound,
            "no such broadcast was sent to you",
        ))
    }
}

/// The transporter's dispatch log after `cursor` (a delivery sequence), at
/// most `limit` events, with the window the log still keeps.
pub async fn replay(
    dispatch: &Dispatch,
    transporter: Uuid,
    cursor: i64,
    limit: i64,
) -> Result<Value, DispatchError> {
    let room = Room::Transporter(transporter).name();
    let mut conn = dispatch.conn().await?;
    // What committed a moment ago is numbered now, so this page has it.
    outbox::number_committed(&mut conn).await?;
    let mut events = outbox::for_room_after(
        &mut conn,
        &room,
        cursor,
        limit + 1,
        crate::events::FLEET_EVENTS,
    )
    .await?;
    let has_more = events.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let oldest = outbox::oldest_seq(&mut conn).await?.unwrap_or(0);
    let next = events.last().map_or(cursor, |event| event.sequence());
    let items: Vec<_> = events
        .iter()
        .map(|event| {
            json!({
                "sequence": event.sequence(),
                "orderId": event.order_id,
                "eventType": event_type(&event.topic),
                "dispatchRevision": event.payload.get("dispatchRevision").cloned().unwrap_or(json!(1)),
                "orderLifecycleVersion": event.payload.get("orderLifecycleVersion").cloned().unwrap_or(json!(1)),
                "payload": event.payload,
                "createdAt": crate::wire::iso(event.created_at),
            })
        })
        .collect();
    Ok(json!({
        "cursor": next,
        "cursorType": "sequence",
        // Events before the oldest kept one were pruned: the client must
        // rebuild from the full list.
        "snapshotRequired": cursor > 0 && cursor + 1 < oldest,
        "hasMore": has_more,
        "replayWindowStart": oldest,
        "replayWindowEnd": next,
        "events": items,
    }))
}

/// A replayed event under the name the captain app's coordinator acts on:
/// it adds on `broadcast_created`, updates on `broadcast_updated`, and
/// removes an offer only on `order_cancelled`, `order_expired` or
/// `order_fully_filled` (a fill or an expiry missed while the socket was
/// down must still take the offer off the screen).
fn event_type(topic: &str) -> &str {
    match topic {
        names::NEW_BROADCAST => "broadcast_created",
        names::BROADCAST_STATE_CHANGED | names::TRUCKS_REMAINING_UPDATE => "broadcast_updated",
        names::BOOKING_FULLY_FILLED | names::BROADCAST_DISMISSED => "order_fully_filled",
        names::BROADCAST_EXPIRED => "order_expired",
        other => other,
    }
}
