//! The tracking screens' shapes (docs/app-contract.md §3.5, §3.12,
//! §3.13): statuses in the apps' words, positions from the latest fix.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weelo_orders::AssignmentStatus;
use weelo_persistence::assignments::Assignment;
use weelo_persistence::orders::{Order, TruckRequest};
use weelo_persistence::users::User;

use super::Fix;
use crate::wire::iso;

fn fix_time(fix: Option<&Fix>) -> Option<String> {
    fix.and_then(|f| DateTime::<Utc>::from_timestamp_millis(f.at_ms))
        .map(iso)
}

/// A trip's marker: `GET tracking/{tripId}`, and an entry of the booking's
/// and the fleet's lists.
pub fn marker(a: &Assignment, fix: Option<&Fix>) -> Value {
    json!({
        "tripId": a.trip_id,
        "assignmentId": a.id,
        "driverId": a.driver_id,
        "vehicleNumber": a.vehicle_number,
        "latitude": fix.map(|f| f.latitude),
        "longitude": fix.map(|f| f.longitude),
        "speed": fix.map_or(0.0, |f| f.speed.unwrap_or(0.0)),
        "bearing": fix.map_or(0.0, |f| f.bearing.unwrap_or(0.0)),
        "status": a.status().trip_word(),
        "lastUpdated": fix_time(fix),
    })
}

fn place(latitude: f64, longitude: f64, address: &str) -> Value {
    json!({ "latitude": latitude, "longitude": longitude, "address": address })
}

/// The driver's trip for `GET tracking/active-trip` and `driver/trips/active`.
pub fn active_trip(
    a: &Assignment,
    order: &Order,
    truck: Option<&TruckRequest>,
    driver: Option<&User>,
    customer: Option<&User>,
    fix: Option<&Fix>,
) -> Value {
    json!({
        // `TripData.id` (non-null in the captain app): the trip.
        "id": a.trip_id,
        "assignmentId": a.id,
        "tripId": a.trip_id,
        "status": a.status().trip_word(),
        "orderId": order.id,
        "bookingId": order.id,
        "vehicleNumber": a.vehicle_number,
        "vehicleType": truck.map(|t| t.vehicle_type.as_str()),
        "vehicleSubtype": truck.map(|t| t.vehicle_subtype.as_str()),
        "driverName": driver.and_then(|d| d.name.as_deref()),
        "pickup": place(order.pickup_latitude, order.pickup_longitude, &order.pickup_address),
        "drop": place(order.drop_latitude, order.drop_longitude, &order.drop_address),
        "routePoints": crate::assignments::view::route_points(order),
        "currentRouteIndex": 0,
        "distanceKm": order.distance_km,
        "fare": truck.map(|t| t.price_per_truck),
        "customerName": customer.and_then(|c| c.name.as_deref()),
        "customerPhone": customer.map(|c| c.phone.as_str()),
        "assignedAt": iso(a.assigned_at),
        "startedAt": a.trip_started_at.map(iso),
        "lastLocation": fix.map(|f| json!({
            "latitude": f.latitude, "longitude": f.longitude,
            "speed": f.speed.unwrap_or(0.0), "bearing": f.bearing.unwrap_or(0.0),
            "lastUpdated": fix_time(Some(f)),
        })),
    })
}

/// A truck of the customer's booking: `GET bookings/{orderId}/trucks`.
pub fn booking_truck(
    a: &Assignment,
    truck: Option<&TruckRequest>,
    driver: Option<&User>,
    fix: Option<&Fix>,
) -> Value {
    json!({
        "assignmentId": a.id,
        "tripId": a.trip_id,
        "vehicleNumber": a.vehicle_number,
        "vehicleType": truck.map(|t| t.vehicle_type.as_str()),
        "vehicleSubtype": truck.map(|t| t.vehicle_subtype.as_str()),
        "driverName": driver.and_then(|d| d.name.as_deref()).unwrap_or("Driver"),
        "driverPhone": driver.map(|d| d.phone.as_str()),
        "driverProfilePhotoUrl": driver.and_then(|d| d.profile_photo.as_deref()),
        "driverTotalRatings": 0,
        "status": a.status().trip_word(),
        "assignedAt": iso(a.assigned_at),
        "currentLocation": fix.map(|f| json!({ "latitude": f.latitude, "longitude": f.longitude })),
    })
}

/// A trip of the driver's history: `GET driver/trips`.
pub fn trip_data(
    a: &Assignment,
    order: &Order,
    truck: Option<&TruckRequest>,
    customer: Option<&User>,
) -> Value {
    json!({
        "id": a.trip_id,
        "tripId": a.trip_id,
        "assignmentId": a.id,
        "orderId": order.id,
        "pickup": place(order.pickup_latitude, order.pickup_longitude, &order.pickup_address),
        "drop": place(order.drop_latitude, order.drop_longitude, &order.drop_address),
        "distanceKm": order.distance_km,
        "fare": truck.map_or(0, |t| t.price_per_truck),
        "status": a.status().trip_word(),
        "vehicleNumber": a.vehicle_number,
        "customerName": customer.and_then(|c| c.name.as_deref()),
        "startedAt": a.trip_started_at.map(iso),
        "completedAt": a.ended_at.filter(|_| a.status() == AssignmentStatus::Completed).map(iso),
        "createdAt": iso(a.assigned_at),
    })
}
