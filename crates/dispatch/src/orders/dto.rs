//! Orders in the apps' shapes (docs/app-contract.md §3.6–3.8, §3.13):
//! flat and nested coordinates, integer money and counts, ISO timestamps
//! with milliseconds.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weelo_persistence::orders::{Order, TruckRequest};

use weelo_orders::{OrderStatus, TruckStatus};

use super::mirror::StatusSnapshot;
use super::view::{CreatedExtras, CreatedView, OrderView, PlaceView, TruckView, remaining_seconds};
use crate::wire::iso;

/// The create answer (docs/app-contract.md §3.6) as JSON text.
pub fn created(
    order: &Order,
    trucks: &[TruckRequest],
    now: DateTime<Utc>,
    window_secs: i64,
    extras: CreatedExtras<'_>,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&CreatedView::new(order, trucks, now, window_secs, extras))
}

/// `GET bookings/orders/{id}/status` (docs/app-contract.md §3.7).
pub fn status(order: &Order, now: DateTime<Utc>) -> Value {
    status_of(&StatusSnapshot::from(order), now)
}

/// The status answer from a snapshot (PostgreSQL's or the Redis mirror's).
pub fn status_of(order: &StatusSnapshot, now: DateTime<Utc>) -> Value {
    let remaining = remaining_seconds(order.expires_at, now);
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
    json!({
        "orderId": order.order_id,
        "id": order.order_id,
        "status": order.status,
        "createdAt": iso(order.created_at),
        "expiresAt": iso(order.expires_at),
        "remainingSeconds": remaining_seconds(order.expires_at, now),
    })
}

/// `GET bookings/orders/{id}`: the order, a summary and its trucks.
pub fn detail(
    order: &Order,
    trucks: &[TruckRequest],
    now: DateTime<Utc>,
    window_secs: i64,
) -> Value {
    let count = |status: TruckStatus| trucks.iter().filter(|t| t.status == status).count();
    let requests: Vec<TruckView<'_>> = trucks.iter().map(TruckView::new).collect();
    json!({
        "order": OrderView::new(order, now, window_secs),
        "summary": {
            "totalTrucks": order.total_trucks,
            "trucksFilled": order.trucks_filled,
            "trucksSearching": count(TruckStatus::Searching),
            "trucksHeld": count(TruckStatus::Held),
            "trucksExpired": count(TruckStatus::Expired),
            "trucksCancelled": count(TruckStatus::Cancelled),
        },
        "requests": requests,
        "truckRequests": requests,
        "serverTimeMs": now.timestamp_millis(),
    })
}

/// An order as `BookingData` (the customer's history, docs/app-contract.md §3.13);
/// `rated` is (completed trips, rated trips).
pub fn booking(order: &Order, trucks: &[TruckRequest], rated: (i64, i64)) -> Value {
    let (completed, rated) = rated;
    let first = trucks.first();
    json!({
        "id": order.id,
        "customerId": order.customer_id,
        "pickup": PlaceView::pickup(order),
        "drop": PlaceView::drop_place(order),
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
        "isRated": completed > 0 && rated >= completed,
        "hasUnratedTrips": rated < completed,
    })
}
