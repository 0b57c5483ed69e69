//! The order's parts in the apps' shapes as typed views that serialize
//! straight to JSON. The create answer is built on every create and sent
//! three times (the stored answer, `order_created`, the response), so it
//! goes from the rows to its bytes once, with no `serde_json::Value` tree
//! (a map allocation per object and per key) in between.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use weelo_persistence::orders::{Order, TruckRequest};

use crate::wire::iso;

/// Seconds left in the window, rounded up; 0 once it has passed.
pub fn remaining_seconds(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let millis = (expires_at - now).num_milliseconds();
    if millis <= 0 {
        0
    } else {
        (millis + 999) / 1000
    }
}

/// Flat and nested coordinates with the address.
#[derive(Debug, Serialize)]
pub struct PlaceView<'a> {
    latitude: f64,
    longitude: f64,
    coordinates: Coordinates,
    address: &'a str,
    city: Option<&'a str>,
    state: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Coordinates {
    latitude: f64,
    longitude: f64,
}

impl<'a> PlaceView<'a> {
    fn new(
        latitude: f64,
        longitude: f64,
        address: &'a str,
        city: Option<&'a str>,
        state: Option<&'a str>,
    ) -> Self {
        Self {
            latitude,
            longitude,
            coordinates: Coordinates {
                latitude,
                longitude,
            },
            address,
            city,
            state,
        }
    }

    /// The order's pickup.
    pub fn pickup(order: &'a Order) -> Self {
        Self::new(
            order.pickup_latitude,
            order.pickup_longitude,
            &order.pickup_address,
            order.pickup_city.as_deref(),
            order.pickup_state.as_deref(),
        )
    }

    /// The order's drop.
    pub fn drop_place(order: &'a Order) -> Self {
        Self::new(
            order.drop_latitude,
            order.drop_longitude,
            &order.drop_address,
            order.drop_city.as_deref(),
            order.drop_state.as_deref(),
        )
    }
}

/// One truck request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TruckView<'a> {
    id: Uuid,
    order_id: Uuid,
    request_number: i32,
    vehicle_type: &'a str,
    vehicle_subtype: &'a str,
    vehicle_key: &'a str,
    price_per_truck: i32,
    client_price_per_truck: Option<i32>,
    server_price_per_truck: Option<i32>,
    status: &'a str,
    transporter_id: Option<Uuid>,
    assigned_vehicle_id: Option<Uuid>,
    assigned_driver_id: Option<Uuid>,
    assigned_at: Option<String>,
}

impl<'a> TruckView<'a> {
    /// The view of `truck`.
    pub fn new(truck: &'a TruckRequest) -> Self {
        Self {
            id: truck.id,
            order_id: truck.order_id,
            request_number: truck.request_number,
            vehicle_type: &truck.vehicle_type,
            vehicle_subtype: &truck.vehicle_subtype,
            vehicle_key: &truck.vehicle_key,
            price_per_truck: truck.price_per_truck,
            client_price_per_truck: truck.client_price_per_truck,
            server_price_per_truck: truck.server_price_per_truck,
            status: truck.status.as_str(),
            transporter_id: truck.transporter_id,
            assigned_vehicle_id: truck.vehicle_id,
            assigned_driver_id: truck.driver_id,
            assigned_at: truck.assigned_at.map(iso),
        }
    }
}

/// The order itself.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView<'a> {
    id: Uuid,
    order_id: Uuid,
    customer_id: Uuid,
    status: &'a str,
    pickup: PlaceView<'a>,
    drop: PlaceView<'a>,
    stops: &'a serde_json::Value,
    distance_km: i32,
    goods_type: Option<&'a str>,
    total_trucks: i32,
    trucks_filled: i32,
    total_amount: i64,
    dispatch_state: &'a str,
    reason_code: Option<&'a str>,
    expires_at: String,
    expires_in: i64,
    remaining_seconds: i64,
    created_at: String,
    updated_at: String,
    cancelled_at: Option<String>,
    expired_at: Option<String>,
    completed_at: Option<String>,
    version: i32,
}

impl<'a> OrderView<'a> {
    /// The view of `order` at `now`, whose search window is `window_secs`.
    pub fn new(order: &'a Order, now: DateTime<Utc>, window_secs: i64) -> Self {
        Self {
            id: order.id,
            order_id: order.id,
            customer_id: order.customer_id,
            status: order.status.as_str(),
            pickup: PlaceView::pickup(order),
            drop: PlaceView::drop_place(order),
            stops: &order.stops,
            distance_km: order.distance_km,
            goods_type: order.goods_type.as_deref(),
            total_trucks: order.total_trucks,
            trucks_filled: order.trucks_filled,
            total_amount: order.total_amount,
            dispatch_state: order.dispatch_state.as_str(),
            reason_code: order.reason_code.as_deref(),
            expires_at: iso(order.expires_at),
            expires_in: window_secs,
            remaining_seconds: remaining_seconds(order.expires_at, now),
            created_at: iso(order.created_at),
            updated_at: iso(order.updated_at),
            cancelled_at: order.cancelled_at.map(iso),
            expired_at: order.expired_at.map(iso),
            completed_at: order.completed_at.map(iso),
            version: order.version,
        }
    }
}

/// `broadcastSummary`: the trucks per (type, subtype) and how many
/// transporters were told of each.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastSummary<'a> {
    total_requests: usize,
    total_transporters_notified: i32,
    grouped_by: Vec<TruckGroup<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TruckGroup<'a> {
    vehicle_type: &'a str,
    vehicle_subtype: &'a str,
    count: usize,
    transporters_notified: usize,
}

impl<'a> BroadcastSummary<'a> {
    /// The summary of `trucks`; `notified_per_group[i]` is how many
    /// transporters were told of the i-th (type, subtype) in order of first
    /// appearance (missing ones count 0).
    pub fn new(order: &Order, trucks: &'a [TruckRequest], notified_per_group: &[usize]) -> Self {
        let mut grouped_by: Vec<TruckGroup<'a>> = Vec::new();
        for truck in trucks {
            match grouped_by.iter_mut().find(|group| {
                group.vehicle_type == truck.vehicle_type
                    && group.vehicle_subtype == truck.vehicle_subtype
            }) {
                Some(group) => group.count += 1,
                None => grouped_by.push(TruckGroup {
                    vehicle_type: &truck.vehicle_type,
                    vehicle_subtype: &truck.vehicle_subtype,
                    count: 1,
                    transporters_notified: 0,
                }),
            }
        }
        for (group, notified) in grouped_by.iter_mut().zip(notified_per_group) {
            group.transporters_notified = *notified;
        }
        Self {
            total_requests: trucks.len(),
            total_transporters_notified: order.notified_transporters,
            grouped_by,
        }
    }
}

/// The create answer (docs/app-contract.md §3.6) with the dispatch figures.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedView<'a> {
    order_id: Uuid,
    status: &'a str,
    order: OrderView<'a>,
    truck_requests: Vec<TruckView<'a>>,
    broadcast_summary: BroadcastSummary<'a>,
    timeout_seconds: i64,
    expires_in: i64,
    dispatch_state: &'a str,
    dispatch_attempts: i32,
    online_candidates: i32,
    notified_transporters: i32,
    reason_code: Option<&'a str>,
    server_time_ms: i64,
    /// What the server's price check did (`pricing::check::summary`).
    price_check: &'a serde_json::Value,
    /// Penalties the customer still owes from earlier cancels.
    pending_settlement: PendingSettlement,
}

/// The penalties a customer owes, shown with its next order.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingSettlement {
    /// ₹ due in all.
    pub total_pending: i64,
    /// Cancels with a penalty due.
    pub count: i64,
}

/// What a create answer adds to the order's rows.
#[derive(Debug, Clone, Copy)]
pub struct CreatedExtras<'a> {
    /// Per group, the transporters notified (see [`BroadcastSummary::new`]).
    pub notified_per_group: &'a [usize],
    /// The price check's summary.
    pub price_check: &'a serde_json::Value,
    /// Penalties still owed.
    pub pending_settlement: PendingSettlement,
}

impl<'a> CreatedView<'a> {
    /// The answer for `order` and its `trucks`, created at `now` with a
    /// window of `window_secs`, with `extras`.
    pub fn new(
        order: &'a Order,
        trucks: &'a [TruckRequest],
        now: DateTime<Utc>,
        window_secs: i64,
        extras: CreatedExtras<'a>,
    ) -> Self {
        Self {
            order_id: order.id,
            status: order.status.as_str(),
            order: OrderView::new(order, now, window_secs),
            truck_requests: trucks.iter().map(TruckView::new).collect(),
            broadcast_summary: BroadcastSummary::new(order, trucks, extras.notified_per_group),
            timeout_seconds: window_secs,
            expires_in: window_secs,
            dispatch_state: order.dispatch_state.as_str(),
            dispatch_attempts: order.dispatch_attempts,
            online_candidates: order.online_candidates,
            notified_transporters: order.notified_transporters,
            reason_code: order.reason_code.as_deref(),
            server_time_ms: now.timestamp_millis(),
            price_check: extras.price_check,
            pending_settlement: extras.pending_settlement,
        }
    }
}
