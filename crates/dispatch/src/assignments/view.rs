//! Assignments in the apps' shapes: `AssignmentData` of the captain app
//! (reference weelo-clients.md §3.11) and the payloads of `trip_assigned`,
//! `trucks_remaining_update` and `assignment_status_changed` (§4).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weelo_persistence::assignments::Assignment;
use weelo_persistence::orders::{Order, TruckRequest};
use weelo_persistence::users::User;

use crate::wire::iso;

/// The people around an assignment, when known.
#[derive(Default, Clone, Copy)]
pub struct People<'a> {
    /// The driver.
    pub driver: Option<&'a User>,
    /// The driver's transporter.
    pub transporter: Option<&'a User>,
    /// The order's customer.
    pub customer: Option<&'a User>,
}

fn name_of(user: Option<&User>, fallback: &str) -> String {
    user.and_then(|u| u.name.clone())
        .unwrap_or_else(|| fallback.to_owned())
}

/// Pickup, stops and drop, in order, as `routePoints`.
pub fn route_points(order: &Order) -> Vec<Value> {
    let mut points = vec![json!({
        "type": "PICKUP", "latitude": order.pickup_latitude, "longitude": order.pickup_longitude,
        "address": order.pickup_address, "city": order.pickup_city, "state": order.pickup_state,
        "stopIndex": 0,
    })];
    for (index, stop) in order.stops.as_array().into_iter().flatten().enumerate() {
        points.push(json!({
            "type": "STOP", "latitude": stop["latitude"], "longitude": stop["longitude"],
            "address": stop["address"], "city": stop["city"], "state": stop["state"],
            "stopIndex": index + 1,
        }));
    }
    points.push(json!({
        "type": "DROP", "latitude": order.drop_latitude, "longitude": order.drop_longitude,
        "address": order.drop_address, "city": order.drop_city, "state": order.drop_state,
        "stopIndex": points.len(),
    }));
    points
}

/// Seconds left for the driver's answer; 0 once it is not pending.
pub fn remaining_seconds(assignment: &Assignment, now: DateTime<Utc>) -> i64 {
    if assignment.status != "pending" {
        return 0;
    }
    let millis = (assignment.driver_deadline - now).num_milliseconds();
    if millis <= 0 {
        0
    } else {
        (millis + 999) / 1000
    }
}

/// `AssignmentData`: the flat shape `GET assignments/{id}` returns and the
/// lists carry.
pub fn assignment_data(
    a: &Assignment,
    order: &Order,
    truck: Option<&TruckRequest>,
    people: People<'_>,
    now: DateTime<Utc>,
) -> Value {
    let points = route_points(order);
    json!({
        "id": a.id,
        "assignmentId": a.id,
        "bookingId": a.order_id,
        "orderId": a.order_id,
        "truckRequestId": a.truck_request_id,
        "transporterId": a.transporter_id,
        "transporterName": name_of(people.transporter, "Transporter"),
        "vehicleId": a.vehicle_id,
        "vehicleNumber": a.vehicle_number,
        "vehicleType": truck.map(|t| t.vehicle_type.as_str()),
        "vehicleSubtype": truck.map(|t| t.vehicle_subtype.as_str()),
        "driverId": a.driver_id,
        "driverName": name_of(people.driver, "Driver"),
        "driverPhone": people.driver.map(|d| d.phone.as_str()),
        "tripId": a.trip_id,
        "status": a.status,
        "assignedAt": iso(a.assigned_at),
        "expiresAt": iso(a.driver_deadline),
        "remainingSeconds": remaining_seconds(a, now),
        "driverAcceptedAt": a.driver_accepted_at.map(iso),
        "declineReason": a.decline_reason,
        "declinedAt": a.declined_at.map(iso),
        "pickupAddress": order.pickup_address,
        "dropAddress": order.drop_address,
        "pickupLat": order.pickup_latitude,
        "pickupLng": order.pickup_longitude,
        "dropLat": order.drop_latitude,
        "dropLng": order.drop_longitude,
        "distanceKm": order.distance_km,
        "pricePerTruck": truck.map(|t| t.price_per_truck),
        "goodsType": order.goods_type,
        "customerName": name_of(people.customer, "Customer"),
        "customerPhone": people.customer.map(|c| c.phone.as_str()),
        "routePoints": points,
        "totalStops": points.len(),
        "currentRouteIndex": 0,
    })
}

fn place(latitude: f64, longitude: f64, address: &str, city: Option<&str>) -> Value {
    json!({ "address": address, "city": city, "lat": latitude, "lng": longitude, "latitude": latitude, "longitude": longitude })
}

/// `trip_assigned` to the driver: nested (`pickup.{lat, lng}`) and flat keys,
/// since the socket and push paths of the app read different ones.
pub fn trip_assigned(
    a: &Assignment,
    order: &Order,
    truck: &TruckRequest,
    customer: Option<&User>,
    answer_secs: i64,
) -> Value {
    json!({
        "assignmentId": a.id,
        "tripId": a.trip_id,
        "orderId": order.id,
        "bookingId": order.id,
        "truckRequestId": truck.id,
        "pickup": place(order.pickup_latitude, order.pickup_longitude, &order.pickup_address, order.pickup_city.as_deref()),
        "drop": place(order.drop_latitude, order.drop_longitude, &order.drop_address, order.drop_city.as_deref()),
        "pickupAddress": order.pickup_address, "pickupCity": order.pickup_city,
        "pickupLat": order.pickup_latitude, "pickupLng": order.pickup_longitude,
        "dropAddress": order.drop_address, "dropCity": order.drop_city,
        "dropLat": order.drop_latitude, "dropLng": order.drop_longitude,
        "vehicleNumber": a.vehicle_number,
        "vehicleType": truck.vehicle_type,
        "vehicleSubtype": truck.vehicle_subtype,
        "farePerTruck": truck.price_per_truck,
        "fare": truck.price_per_truck,
        "distanceKm": order.distance_km,
        "goodsType": order.goods_type,
        "customerName": name_of(customer, "Customer"),
        "customerPhone": customer.map(|c| c.phone.as_str()),
        "assignedAt": iso(a.assigned_at),
        "expiresAt": iso(a.driver_deadline),
        "routePoints": route_points(order),
        "driverAcceptTimeoutSeconds": answer_secs,
        "remainingSeconds": answer_secs,
        "message": "New trip assigned: accept or decline",
    })
}

/// `trucks_remaining_update`: the "X of Y" progress.
pub fn trucks_remaining(order: &Order, vehicle_type: &str, now: DateTime<Utc>) -> Value {
    json!({
        "orderId": order.id,
        "bookingId": order.id,
        "vehicleType": vehicle_type,
        "trucksNeeded": order.total_trucks,
        "totalTrucks": order.total_trucks,
        "trucksFilled": order.trucks_filled,
        "trucksRemaining": order.total_trucks - order.trucks_filled,
        "orderStatus": order.status,
        "status": order.status,
        "eventVersion": order.version,
        "serverTimeMs": now.timestamp_millis(),
    })
}

/// `assignment_status_changed`.
pub fn status_changed(a: &Assignment, message: &str) -> Value {
    json!({
        "assignmentId": a.id,
        "tripId": a.trip_id,
        "orderId": a.order_id,
        "bookingId": a.order_id,
        "driverId": a.driver_id,
        "vehicleNumber": a.vehicle_number,
        "status": a.status,
        "message": message,
    })
}
