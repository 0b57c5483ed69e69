//! Orders in the apps' shapes (reference weelo-clients.md §3.6–3.8, §3.13):
//! flat and nested coordinates, integer money and counts, ISO timestamps
//! with milliseconds.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weelo_persistence::orders::{Order, TruckRequest};

use weelo_orders::OrderStatus;

use super::mirror::StatusSnapshot;
use crate::dto::iso;

/// Seconds left in the window, rounded up; 0 once it has passed.
pub fn remaining_seconds(order: &Order, now: DateTime<Utc>) -> i64 {
    let millis = (order.expires_at - now).num_milliseconds();
    if millis <= 0 {
        0
    } else {
        (millis + 999) / 1000
    }
}

/// Whether the order is still searching with time left.
pub fn is_active(order: &Order, now: DateTime<Utc>) -> bool {
    order.status().is_searching() && order.expires_at > now
}

fn place(
    latitude: f64,
    longitude: f64,
    address: &str,
    city: Option<&str>,
    state: Option<&str>,
) -> Value {
    json!({
        "latitude": latitude, "longitude": longitude,
        "coordinates": { "latitude": latitude, "longitude": longitude },
        "address": address, "city": city, "state": state,
    })
}

/// The pickup, with flat and nested coordinates.
pub fn pickup(order: &Order) -> Value {
    place(
        order.pickup_latitude,
        order.pickup_longitude,
        &order.pickup_address,
        order.pickup_city.as_deref(),
        order.pickup_state.as_deref(),
    )
}

/// The drop, with flat and nested coordinates.
pub fn drop_place(order: &Order) -> Value {
    place(
        order.drop_latitude,
        order.drop_longitude,
        &order.drop_address,
        order.drop_city.as_deref(),
        order.drop_state.as_deref(),
    )
}

/// One truck request.
pub fn truck(truck: &TruckRequest) -> Value {
    json!({
        "id": truck.id,
        "orderId": truck.order_id,
        "requestNumber": truck.request_number,
        "vehicleType": truck.vehicle_type,
        "vehicleSubtype": truck.vehicle_subtype,
        "vehicleKey": truck.vehicle_key,
        "pricePerTruck": truck.price_per_truck,
        "status": truck.status,
        "transporterId": truck.transporter_id,
        "assignedVehicleId": truck.vehicle_id,
        "assignedDriverId": truck.driver_id,
        "assignedAt": truck.assigned_at.map(iso),
    })
}

/// The order itself.
pub fn order(order: &Order, now: DateTime<Utc>, window_secs: i64) -> Value {
    json!({
        "id": order.id,
        "orderId": order.id,
        "customerId": order.customer_id,
        "status": order.status,
        "pickup": pickup(order),
        "drop": drop_place(order),
        "stops": order.stops,
        "distanceKm": order.distance_km,
        "goodsType": order.goods_type,
        "totalTrucks": order.total_trucks,
        "trucksFilled": order.trucks_filled,
        "totalAmount": order.total_amount,
        "dispatchState": order.dispatch_state,
        "reasonCode": order.reason_code,
        "expiresAt": iso(order.expires_at),
        "expiresIn": window_secs,
        "remainingSeconds": remaining_seconds(order, now),
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "cancelledAt": order.cancelled_at.map(iso),
        "expiredAt": order.expired_at.map(iso),
        "completedAt": order.completed_at.map(iso),
        "version": order.version,
    })
}

/// `broadcastSummary`: the trucks per (type, subtype) and who was notified.
pub fn broadcast_summary(order: &Order, trucks: &[TruckRequest]) -> Value {
    let mut groups: Vec<(String, String, usize)> = Vec::new();
    for truck in trucks {
        match groups
            .iter_mut()
            .find(|(t, s, _)| *t == truck.vehicle_type && *s == truck.vehicle_subtype)
        {
            Some(group) => group.2 += 1,
            None => groups.push((truck.vehicle_type.clone(), truck.vehicle_subtype.clone(), 1)),
        }
    }
    let grouped: Vec<Value> = groups
        .into_iter()
        .map(|(vehicle_type, vehicle_subtype, count)| {
            json!({ "vehicleType": vehicle_type, "vehicleSubtype": vehicle_subtype, "count": count, "transportersNotified": 0 })
        })
        .collect();
    json!({
        "totalRequests": trucks.len(),
        "totalTransportersNotified": order.notified_transporters,
        "groupedBy": grouped,
    })
}

/// The dispatch figures every order answer carries.
fn dispatch_fields(order: &Order, now: DateTime<Utc>) -> Value {
    json!({
        "dispatchState": order.dispatch_state,
        "dispatchAttempts": order.dispatch_attempts,
        "onlineCandidates": order.online_candidates,
        "notifiedTransporters": order.notified_transporters,
        "reasonCode": order.reason_code,
        "serverTimeMs": now.timestamp_millis(),
    })
}

fn merge(mut into: Value, from: Value) -> Value {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
    into
}

/// The create answer (reference §3.6).
pub fn created(
    order: &Order,
    trucks: &[TruckRequest],
    now: DateTime<Utc>,
    window_secs: i64,
) -> Value {
    merge(
        json!({
            "orderId": order.id,
            "status": order.status,
            "order": self::order(order, now, window_secs),
            "truckRequests": trucks.iter().map(truck).collect::<Vec<_>>(),
            "broadcastSummary": broadcast_summary(order, trucks),
            "timeoutSeconds": window_secs,
            "expiresIn": window_secs,
        }),
        dispatch_fields(order, now),
    )
}

/// `GET bookings/orders/{id}/status` (reference §3.7).
pub fn status(order: &Order, now: DateTime<Utc>) -> Value {
    status_of(&StatusSnapshot::from(order), now)
}

/// The status answer from a snapshot (PostgreSQL's or the Redis mirror's).
pub fn status_of(order: &StatusSnapshot, now: DateTime<Utc>) -> Value {
    let millis = (order.expires_at - now).num_milliseconds();
    let remaining = if millis <= 0 {
        0
    } else {
        (millis + 999) / 1000
    };
    let searching = OrderStatus::parse(&order.status).is_some_and(OrderStatus::is_searching);
    json!({
        "orderId": order.order_id,
        "status": order.status,
        "expiresAt": iso(order.expires_at),
        "remainingSeconds": remaining,
        "isActive": searching && remaining > 0,
        "totalTrucks": order.total_trucks,
        "trucksFilled": order.trucks_filled,
        "version": order.version,
        "dispatchState": order.dispatch_state,
        "dispatchAttempts": order.dispatch_attempts,
        "onlineCandidates": order.online_candidates,
        "notifiedTransporters": order.notified_transporters,
        "reasonCode": order.reason_code,
        "serverTimeMs": now.timestamp_millis(),
    })
}

/// `check-active`'s `activeOrder`.
pub fn active_summary(order: &StatusSnapshot, now: DateTime<Utc>) -> Value {
    let millis = (order.expires_at - now).num_milliseconds();
    json!({
        "orderId": order.order_id,
        "id": order.order_id,
        "status": order.status,
        "createdAt": iso(order.created_at),
        "expiresAt": iso(order.expires_at),
        "remainingSeconds": if millis <= 0 { 0 } else { (millis + 999) / 1000 },
    })
}

/// `GET bookings/orders/{id}`: the order, a summary and its trucks.
pub fn detail(
    order: &Order,
    trucks: &[TruckRequest],
    now: DateTime<Utc>,
    window_secs: i64,
) -> Value {
    let count = |status: &str| trucks.iter().filter(|t| t.status == status).count();
    let requests: Vec<Value> = trucks.iter().map(truck).collect();
    json!({
        "order": self::order(order, now, window_secs),
        "summary": {
            "totalTrucks": order.total_trucks,
            "trucksFilled": order.trucks_filled,
            "trucksSearching": count("searching"),
            "trucksHeld": count("held"),
            "trucksExpired": count("expired"),
            "trucksCancelled": count("cancelled"),
        },
        "requests": requests,
        "truckRequests": requests,
        "serverTimeMs": now.timestamp_millis(),
    })
}

/// An order as `BookingData` (the customer's history, reference §3.13).
pub fn booking(order: &Order, trucks: &[TruckRequest]) -> Value {
    let first = trucks.first();
    json!({
        "id": order.id,
        "customerId": order.customer_id,
        "pickup": pickup(order),
        "drop": drop_place(order),
        "vehicleType": first.map(|t| t.vehicle_type.clone()),
        "vehicleSubtype": first.map(|t| t.vehicle_subtype.clone()),
        "trucksNeeded": order.total_trucks,
        "trucksFilled": order.trucks_filled,
        "pricePerTruck": first.map_or(0, |t| t.price_per_truck),
        "totalAmount": order.total_amount,
        "distanceKm": order.distance_km,
        "goodsType": order.goods_type,
        "status": order.status,
        "reasonCode": order.reason_code,
        "createdAt": iso(order.created_at),
        "expiresAt": iso(order.expires_at),
        "completedAt": order.completed_at.map(iso),
        "isRated": false,
        "hasUnratedTrips": false,
    })
}
