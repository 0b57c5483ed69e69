//! Broadcasting: telling the nearest online transporters with a
//! free vehicle about an order, in radius steps that widen on a schedule
//! ([`steps`]), and the transporter's feed of what it was told ([`feed`]).
//! Who was told is recorded in PostgreSQL (the right to hold the trucks);
//! each step is one transaction with its `new_broadcast` events.

pub mod feed;
pub mod jobs;
pub mod steps;

use serde_json::{Value, json};
use weelo_persistence::orders::{Order, TruckRequest};

pub use feed::{active_requests, decline, feed, order_info, replay, requests_info, snapshot};
pub use jobs::DispatchJobs;

use crate::wire::iso;

/// One (type, subtype) line of an order.
pub(crate) struct Group<'a> {
    vehicle_type: &'a str,
    vehicle_subtype: &'a str,
    key: &'a str,
    /// Trucks of the line.
    count: usize,
    /// Of which still searching (open to a hold).
    open: usize,
    fare: i32,
}

pub(crate) fn groups(trucks: &[TruckRequest]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for truck in trucks {
        let open = usize::from(truck.status == "searching");
        match groups
            .iter_mut()
            .find(|g| g.key == truck.vehicle_key && g.vehicle_subtype == truck.vehicle_subtype)
        {
            Some(group) => {
                group.count += 1;
                group.open += open;
            }
            None => groups.push(Group {
                vehicle_type: &truck.vehicle_type,
                vehicle_subtype: &truck.vehicle_subtype,
                key: &truck.vehicle_key,
                count: 1,
                open,
                fare: truck.price_per_truck,
            }),
        }
    }
    groups
}

fn place(latitude: f64, longitude: f64, address: &str, city: Option<&str>) -> Value {
    json!({ "address": address, "city": city, "latitude": latitude, "longitude": longitude, "lat": latitude, "lng": longitude })
}

/// The personalised `new_broadcast` of weelo-clients.md §4.4.
pub(crate) fn broadcast(
    order: &Order,
    groups: &[Group<'_>],
    mine: &[usize],
    can_provide: usize,
    distance_m: f64,
    now_ms: i64,
    step: i32,
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
        .map(|g| json!({ "vehicleType": g.vehicle_type, "vehicleSubtype": g.vehicle_subtype, "count": g.count, "filledCount": g.count - g.open, "farePerTruck": g.fare }))
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
        "dispatchRevision": step,
        "orderLifecycleVersion": order.version,
        "payloadVersion": 1,
        "serverTimeMs": now_ms,
    })
}
