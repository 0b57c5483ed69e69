//! Dispatch, first radius step: right after an order is committed, the
//! nearest online transporters with a free vehicle of each requested key
//! (from this instance's proximity index) are recorded as notified and each
//! gets a personalised `new_broadcast`; the customer gets
//! `broadcast_state_changed`. The create answer is rebuilt with the step's
//! figures and stored under the idempotency key, so a replay says the same.
//!
//! Later radius steps, re-dispatch of reopened trucks, holds and the
//! transporter feed are not built yet.

use std::collections::HashMap;

use diesel_async::AsyncConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_availability::Point;
use weelo_persistence::dispatch::{self, Notified};
use weelo_persistence::orders::{Order, TruckRequest, order_rooms};
use weelo_persistence::outbox::NewEvent;
use weelo_persistence::{PersistenceError, idempotency};

use crate::AppState;
use crate::dto::iso;
use crate::orders::dto;

/// The first step's radius (DESIGN.md §4: 5 km at 0 s).
pub const FIRST_STEP_RADIUS_M: f64 = 5_000.0;
/// Most transporters told per vehicle key in one step.
pub const PER_KEY_LIMIT: usize = 20;

/// One (type, subtype) line of an order.
struct Group<'a> {
    vehicle_type: &'a str,
    vehicle_subtype: &'a str,
    key: &'a str,
    count: usize,
    fare: i32,
}

fn groups(trucks: &[TruckRequest]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for truck in trucks {
        match groups
            .iter_mut()
            .find(|g| g.key == truck.vehicle_key && g.vehicle_subtype == truck.vehicle_subtype)
        {
            Some(group) => group.count += 1,
            None => groups.push(Group {
                vehicle_type: &truck.vehicle_type,
                vehicle_subtype: &truck.vehicle_subtype,
                key: &truck.vehicle_key,
                count: 1,
                fare: truck.price_per_truck,
            }),
        }
    }
    groups
}

/// Runs the first step for a just-created order; returns the create answer
/// with the step's figures (or `None` when nobody was found).
pub async fn first_step(
    state: &AppState,
    order: &Order,
    trucks: &[TruckRequest],
    answer_key: (&str, &str),
) -> Result<Option<Value>, PersistenceError> {
    let pickup = Point::new(order.pickup_latitude, order.pickup_longitude);
    let groups = groups(trucks);
    // transporter -> (distance, keys it was found for)
    let mut found: HashMap<Uuid, (f64, Vec<usize>)> = HashMap::new();
    for (index, group) in groups.iter().enumerate() {
        for nearby in state
            .presence
            .nearest(group.key, pickup, PER_KEY_LIMIT, FIRST_STEP_RADIUS_M)
        {
            let entry = found
                .entry(nearby.id)
                .or_insert((nearby.distance_m, Vec::new()));
            entry.1.push(index);
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    let now = state.clock.now();
    let ids: Vec<Uuid> = found.keys().copied().collect();
    let mut conn = state.conn().await?;
    let counts = dispatch::free_vehicle_counts(&mut conn, &ids).await?;
    let free = |transporter: Uuid, key: &str| {
        counts
            .iter()
            .find(|(t, k, _)| *t == transporter && k == key)
            .map_or(0, |(_, _, n)| usize::try_from(*n).unwrap_or(0))
    };
    let mut notified = Vec::new();
    let mut events = Vec::new();
    let mut per_group = vec![0_usize; groups.len()];
    for (transporter, (distance_m, indexes)) in &found {
        let can_provide: usize = indexes
            .iter()
            .map(|i| free(*transporter, groups[*i].key).min(groups[*i].count))
            .sum();
        if can_provide == 0 {
            continue;
        }
        for index in indexes {
            per_group[*index] += 1;
        }
        notified.push(Notified {
            transporter_id: *transporter,
            distance_m: *distance_m,
        });
        events.push(NewEvent {
            topic: "new_broadcast",
            recipients: vec![format!("transporter:{transporter}")],
            payload: broadcast(
                order,
                &groups,
                indexes,
                can_provide,
                *distance_m,
                now.timestamp_millis(),
            ),
            order_id: Some(order.id),
        });
    }
    if notified.is_empty() {
        return Ok(None);
    }
    let candidates = i32::try_from(found.len()).unwrap_or(i32::MAX);
    events.push(NewEvent {
        topic: "broadcast_state_changed",
        recipients: order_rooms(order),
        payload: json!({
            "orderId": order.id,
            "status": order.status,
            "dispatchState": "broadcasting",
            "notifiedTransporters": notified.len(),
            "onlineCandidates": candidates,
        }),
        order_id: Some(order.id),
    });
    let window = state.orders.search_window_secs;
    let (scope, key) = answer_key;
    let updated = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let Some(updated) =
                dispatch::record_step(conn, order.id, 1, candidates, &notified, &events, now)
                    .await?
            else {
                return Ok(None);
            };
            let mut answer = dto::created(&updated, trucks, order.created_at, window);
            if let Some(grouped) = answer["broadcastSummary"]["groupedBy"].as_array_mut() {
                for (item, told) in grouped.iter_mut().zip(&per_group) {
                    item["transportersNotified"] = json!(told);
                }
            }
            idempotency::complete(conn, order.customer_id, scope, key, 201, &answer).await?;
            Ok(Some((updated, answer)))
        })
        .await?;
    let Some((updated, answer)) = updated else {
        return Ok(None);
    };
    tracing::info!(order.id = %order.id, dispatch.notified = notified.len(), dispatch.candidates = candidates, "first dispatch step");
    crate::orders::mirror::publish(&state.cache, &updated).await;
    Ok(Some(answer))
}

fn place(latitude: f64, longitude: f64, address: &str, city: Option<&str>) -> Value {
    json!({ "address": address, "city": city, "latitude": latitude, "longitude": longitude, "lat": latitude, "lng": longitude })
}

/// The personalised `new_broadcast` of weelo-clients.md §4.4.
fn broadcast(
    order: &Order,
    groups: &[Group<'_>],
    mine: &[usize],
    can_provide: usize,
    distance_m: f64,
    now_ms: i64,
) -> Value {
    let first = &groups[mine[0]];
    let pickup = place(
        order.pickup_latitude,
        order.pickup_longitude,
        &order.pickup_address,
        order.pickup_city.as_deref(),
    );
    let drop = place(
        order.drop_latitude,
        order.drop_longitude,
        &order.drop_address,
        order.drop_city.as_deref(),
    );
    let requested: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "vehicleType": g.vehicle_type, "vehicleSubtype": g.vehicle_subtype, "count": g.count, "filledCount": 0, "farePerTruck": g.fare }))
        .collect();
    json!({
        "broadcastId": order.id,
        "orderId": order.id,
        "customerId": order.customer_id,
        "vehicleType": first.vehicle_type,
        "vehicleSubtype": first.vehicle_subtype,
        "trucksNeeded": order.total_trucks,
        "totalTrucksNeeded": order.total_trucks,
        "trucksFilled": order.trucks_filled,
        "trucksStillNeeded": order.total_trucks - order.trucks_filled,
        "farePerTruck": first.fare,
        "pricePerTruck": first.fare,
        "pickupLocation": pickup,
        "dropLocation": drop,
        "pickup": pickup,
        "drop": drop,
        "distance": order.distance_km,
        "distanceKm": order.distance_km,
        "goodsType": order.goods_type,
        "isUrgent": false,
        "expiresAt": iso(order.expires_at),
        "requestedVehicles": requested,
        "trucksYouCanProvide": can_provide,
        "maxTrucksYouCanProvide": can_provide,
        "yourAvailableTrucks": can_provide,
        "isPersonalized": true,
        "pickupDistanceKm": (distance_m / 100.0).round() / 10.0,
        "dispatchRevision": 1,
        "orderLifecycleVersion": order.version,
        "payloadVersion": 1,
        "serverTimeMs": now_ms,
    })
}

/// The transporter's feed: every searching order it was told about and has
/// not declined, as personalised `new_broadcast` payloads, newest first.
pub async fn feed(state: &AppState, transporter: Uuid) -> Result<Vec<Value>, PersistenceError> {
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
                .map(|i| free(groups[*i].key).min(groups[*i].count))
                .sum();
            broadcast(
                order,
                &groups,
                &mine,
                can_provide,
                *distance_m,
                now.timestamp_millis(),
            )
        })
        .collect())
}

/// `bookings/requests/active`: the transporter's active broadcasts as
/// `{order: OrderInfo, requests: [TruckRequestInfo]}` (reference §3.9 step 3).
/// The customer's phone is masked: transporters see it only once assigned.
pub async fn active_requests(
    state: &AppState,
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
            slot.insert((user.name, crate::auth::phone::mask(&user.phone)));
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
    state: &AppState,
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
            (user.name, crate::auth::phone::mask(&user.phone))
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
