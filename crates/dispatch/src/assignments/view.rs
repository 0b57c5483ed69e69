//! Assignments in the apps' shapes: `AssignmentData` of the captain app
//! (docs/app-contract.md §3.11) and the payloads of `trip_assigned`,
//! `trucks_remaining_update` and `assignment_status_changed` (§4).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weelo_orders::AssignmentStatus;
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
    if assignment.status() != AssignmentStatus::Pending {
        return 0;
    }
    let millis = (assignment.driver_deadline - now).num_milliseconds();
    if millis <= 0 {
        0
    } else {
        (millis + 999) / 1000
    }
}

/// The status as the captain app knows it: a timed-out assignment is
/// `expired` there (its trip-status screen maps `expired` and
/// `driver_declined`, and would show "waiting for driver" for `timed_out`);
/// the stored status stays `timed_out`.
pub fn status_word(status: AssignmentStatus) -> &'static str {
    match status {
        AssignmentStatus::TimedOut => "expired",
        other => other.as_str(),
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
        "status": status_word(a.status),
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
