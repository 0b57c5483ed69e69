//! Broadcasting: telling the nearest online transporters with a
//! free vehicle about an order, in radius steps that widen on a schedule
//! ([`steps`]), and the transporter's feed of what it was told ([`feed`](mod@feed)).
//! Who was told is recorded in PostgreSQL (the right to hold the trucks);
//! each step is one transaction with its `new_broadcast` events.

pub mod acks;
pub mod feed;
pub mod jobs;
pub mod steps;

use weelo_orders::TruckStatus;
use weelo_persistence::orders::{Order, TruckRequest};

pub use feed::{active_requests, decline, feed, order_info, replay, requests_info, snapshot};
pub use jobs::DispatchJobs;

use crate::events::{NewBroadcast, Place, RequestedVehicle};
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
        let open = usize::from(truck.status == TruckStatus::Searching);
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

/// How far a transporter is from the pickup, and how long its truck would
/// take to get there (the embedded estimate: an offer never waits on a
/// maps provider).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PickupReach {
    /// Straight-line metres.
    pub(crate) distance_m: f64,
    /// Estimated minutes of driving.
    pub(crate) eta_minutes: i64,
}

impl PickupReach {
    /// `distance_m` away, for a truck of `vehicle_type`, on `maps`' road
    /// factor and speeds.
    pub(crate) fn of(
        distance_m: f64,
        maps: &crate::places::MapsSettings,
        vehicle_type: &str,
    ) -> Self {
        Self {
            distance_m,
            eta_minutes: crate::places::types::minutes_of(
                maps.estimate_secs(distance_m, Some(vehicle_type)),
            ),
        }
    }
}

/// The personalised `new_broadcast` of docs/app-contract.md §4.4.
pub(crate) fn broadcast(
    order: &Order,
    groups: &[Group<'_>],
    mine: &[usize],
    can_provide: usize,
    reach: PickupReach,
    now_ms: i64,
    step: i32,
) -> NewBroadcast {
    let first = &groups[mine[0]];
    let distance_m = reach.distance_m;
    let requested = groups
        .iter()
        .map(|g| RequestedVehicle {
            vehicle_type: g.vehicle_type.to_owned(),
            vehicle_subtype: g.vehicle_subtype.to_owned(),
            count: g.count,
            filled_count: g.count - g.open,
            fare_per_truck: g.fare,
        })
        .collect();
    NewBroadcast {
        broadcast_id: order.id,
        order_id: order.id,
        customer_id: order.customer_id,
        vehicle_type: first.vehicle_type.to_owned(),
        vehicle_subtype: first.vehicle_subtype.to_owned(),
        trucks_needed: order.total_trucks,
        total_trucks_needed: order.total_trucks,
        trucks_filled: order.trucks_filled,
        trucks_still_needed: order.total_trucks - order.trucks_filled,
        fare_per_truck: first.fare,
        price_per_truck: first.fare,
        pickup_location: Place::pickup(order),
        drop_location: Place::drop_of(order),
        pickup: Place::pickup(order),
        drop: Place::drop_of(order),
        distance: order.distance_km,
        distance_km: order.distance_km,
        goods_type: order.goods_type.clone(),
        is_urgent: false,
        expires_at: iso(order.expires_at),
        requested_vehicles: requested,
        trucks_you_can_provide: can_provide,
        max_trucks_you_can_provide: can_provide,
        your_available_trucks: can_provide,
        is_personalized: true,
        pickup_distance_km: (distance_m / 100.0).round() / 10.0,
        pickup_eta_minutes: reach.eta_minutes,
        dispatch_revision: step,
        order_lifecycle_version: order.version,
        payload_version: 1,
        server_time_ms: now_ms,
    }
}
