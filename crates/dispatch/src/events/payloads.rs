//! The payload of each server → client event, in the apps' shapes
//! (docs/app-contract.md §4). Several carry the same figure under two names
//! (`orderId` and `bookingId`, `lat` and `latitude`): the customer and
//! captain apps, and their socket and push paths, read different ones.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;
use weelo_orders::filling::EndReason;
use weelo_orders::{DispatchState, HoldStatus, OrderStatus};
use weelo_persistence::assignments::Assignment;
use weelo_persistence::holds::Hold;
use weelo_persistence::orders::{Order, TruckRequest};

use crate::wire::iso;

/// A place as both apps read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Place {
    /// Street address.
    pub address: String,
    /// City, when known.
    pub city: Option<String>,
    /// Latitude (captain app).
    pub lat: f64,
    /// Longitude (captain app).
    pub lng: f64,
    /// Latitude (customer app).
    pub latitude: f64,
    /// Longitude (customer app).
    pub longitude: f64,
}

impl Place {
    /// The order's pickup.
    pub fn pickup(order: &Order) -> Self {
        Self::at(
            order.pickup_latitude,
            order.pickup_longitude,
            &order.pickup_address,
            order.pickup_city.as_deref(),
        )
    }

    /// The order's drop.
    pub fn drop_of(order: &Order) -> Self {
        Self::at(
            order.drop_latitude,
            order.drop_longitude,
            &order.drop_address,
            order.drop_city.as_deref(),
        )
    }

    fn at(latitude: f64, longitude: f64, address: &str, city: Option<&str>) -> Self {
        Self {
            address: address.to_owned(),
            city: city.map(str::to_owned),
            lat: latitude,
            lng: longitude,
            latitude,
            longitude,
        }
    }
}

/// `order_created`: the create's answer, exactly as the customer got it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct OrderCreated(pub Value);

/// One line of an order in `new_broadcast`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestedVehicle {
    /// Vehicle type.
    pub vehicle_type: String,
    /// Subtype.
    pub vehicle_subtype: String,
    /// Trucks of the line.
    pub count: usize,
    /// Of which taken.
    pub filled_count: usize,
    /// Fare of one truck.
    pub fare_per_truck: i32,
}

/// `new_broadcast`: an order offered to one transporter, personalised with
/// what its fleet can provide (docs/app-contract.md §4.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewBroadcast {
    pub broadcast_id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub vehicle_type: String,
    pub vehicle_subtype: String,
    pub trucks_needed: i32,
    pub total_trucks_needed: i32,
    pub trucks_filled: i32,
    pub trucks_still_needed: i32,
    pub fare_per_truck: i32,
    pub price_per_truck: i32,
    pub pickup_location: Place,
    pub drop_location: Place,
    pub pickup: Place,
    pub drop: Place,
    pub distance: i32,
    pub distance_km: i32,
    pub goods_type: Option<String>,
    pub is_urgent: bool,
    pub expires_at: String,
    pub requested_vehicles: Vec<RequestedVehicle>,
    pub trucks_you_can_provide: usize,
    pub max_trucks_you_can_provide: usize,
    pub your_available_trucks: usize,
    pub is_personalized: bool,
    pub pickup_distance_km: f64,
    pub pickup_eta_minutes: i64,
    pub dispatch_revision: i32,
    pub order_lifecycle_version: i32,
    pub payload_version: u8,
    pub server_time_ms: i64,
}

/// `broadcast_state_changed`: where the search of an order stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BroadcastStateChanged {
    pub order_id: Uuid,
    pub status: OrderStatus,
    pub dispatch_state: DispatchState,
    /// The radius step just taken (only after a step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius_km: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notified_transporters: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_candidates: Option<i32>,
}

/// `trip_assigned` to the driver: nested (`pickup.{lat, lng}`) and flat
/// keys, since the socket and push paths of the app read different ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TripAssigned {
    pub assignment_id: Uuid,
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub truck_request_id: Uuid,
    pub pickup: Place,
    pub drop: Place,
    pub pickup_address: String,
    pub pickup_city: Option<String>,
    pub pickup_lat: f64,
    pub pickup_lng: f64,
    pub drop_address: String,
    pub drop_city: Option<String>,
    pub drop_lat: f64,
    pub drop_lng: f64,
    pub vehicle_number: String,
    pub vehicle_type: String,
    pub vehicle_subtype: String,
    pub fare_per_truck: i32,
    pub fare: i32,
    pub distance_km: i32,
    pub goods_type: Option<String>,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub assigned_at: String,
    pub expires_at: String,
    /// Pickup, stops and drop (`routePoints` of `AssignmentData`).
    pub route_points: Vec<Value>,
    pub driver_accept_timeout_seconds: i64,
    pub remaining_seconds: i64,
    pub message: &'static str,
    /// Set when a reconnecting driver gets it again.
    #[serde(rename = "_reconnectDelivery", skip_serializing_if = "Option::is_none")]
    pub reconnect_delivery: Option<bool>,
}

/// `trucks_remaining_update`: the "X of Y" progress of an order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TrucksRemaining {
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub vehicle_type: String,
    pub trucks_needed: i32,
    pub total_trucks: i32,
    pub trucks_filled: i32,
    pub trucks_remaining: i32,
    pub order_status: OrderStatus,
    pub status: OrderStatus,
    pub event_version: i32,
    pub server_time_ms: i64,
}

impl TrucksRemaining {
    /// The progress of `order` (`vehicle_type` the line that moved, or
    /// empty).
    pub fn of(order: &Order, vehicle_type: &str, now: DateTime<Utc>) -> Self {
        Self {
            order_id: order.id,
            booking_id: order.id,
            vehicle_type: vehicle_type.to_owned(),
            trucks_needed: order.total_trucks,
            total_trucks: order.total_trucks,
            trucks_filled: order.trucks_filled,
            trucks_remaining: order.total_trucks - order.trucks_filled,
            order_status: order.status,
            status: order.status,
            event_version: order.version,
            server_time_ms: now.timestamp_millis(),
        }
    }
}

/// `booking_fully_filled`: every truck of the order is taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookingFullyFilled {
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub trucks_filled: i32,
    pub trucks_needed: i32,
    pub status: OrderStatus,
}

/// `broadcast_dismissed`: the order is gone from a transporter's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BroadcastDismissed {
    pub broadcast_id: Uuid,
    pub order_id: Uuid,
    pub reason: &'static str,
    pub message: &'static str,
    pub trucks_filled: i32,
    pub trucks_needed: i32,
}

/// `assignment_status_changed`: a truck's assignment moved (driver answer,
/// trip step).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssignmentStatusChanged {
    pub assignment_id: Uuid,
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub driver_id: Uuid,
    pub vehicle_number: String,
    /// The assignment's status, or the trip's word on a trip step.
    pub status: String,
    /// The order's status (trip steps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_status: Option<String>,
    /// `timeout` or `declined` (the customer's copy of an unanswered one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub message: &'static str,
}

impl AssignmentStatusChanged {
    /// `a` as it stands now, with `message`.
    pub fn of(a: &Assignment, message: &'static str) -> Self {
        Self {
            assignment_id: a.id,
            trip_id: a.trip_id,
            order_id: a.order_id,
            booking_id: a.order_id,
            driver_id: a.driver_id,
            vehicle_number: a.vehicle_number.clone(),
            status: a.status.as_str().to_owned(),
            order_status: None,
            reason: None,
            message,
        }
    }
}

/// `driver_timeout`: the transporter's driver did not answer in time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverTimeout {
    pub assignment_id: Uuid,
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub driver_id: Uuid,
    pub driver_name: String,
    pub vehicle_number: String,
    pub reason: &'static str,
    pub message: &'static str,
}

/// `booking_completed`: every truck of the order has delivered (or ended).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookingCompleted {
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub status: OrderStatus,
    pub completed_at: Option<DateTime<Utc>>,
    pub trucks_filled: i32,
    pub message: &'static str,
}

impl BookingCompleted {
    /// `order`, completed.
    pub fn of(order: &Order) -> Self {
        Self {
            order_id: order.id,
            booking_id: order.id,
            status: order.status,
            completed_at: order.completed_at,
            trucks_filled: order.trucks_filled,
            message: "Every truck of this order has delivered",
        }
    }
}

/// `order_expired`: the order's window ended before it filled.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderExpired {
    pub order_id: Uuid,
    /// `expired`, or `fully_filled` when the trucks taken go on.
    pub status: OrderStatus,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub trucks_filled: i32,
    pub total_trucks: i32,
    pub trucks_expired: usize,
    pub expired_at: Option<DateTime<Utc>>,
    pub message: &'static str,
}

impl OrderExpired {
    /// `order` after its expiry, `trucks_expired` of its trucks unfilled.
    pub fn of(order: &Order, trucks_expired: usize) -> Self {
        Self {
            order_id: order.id,
            status: order.status,
            reason_code: order.reason_code.clone(),
            reason: order.reason_code.clone(),
            trucks_filled: order.trucks_filled,
            total_trucks: order.total_trucks,
            trucks_expired,
            expired_at: order.expired_at,
            message: expiry_message(order.reason_code.as_deref()),
        }
    }
}

fn expiry_message(reason: Option<&str>) -> &'static str {
    reason.and_then(EndReason::parse).map_or(
        EndReason::NoTransporterAcceptance.message(),
        EndReason::message,
    )
}

/// `hold_expired`: a transporter's hold ran out; its trucks are open again.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct HoldExpired {
    pub hold_id: Uuid,
    pub order_id: Uuid,
    pub transporter_id: Uuid,
    pub phase: &'static str,
    pub status: HoldStatus,
    pub reason: &'static str,
    pub vehicle_type: String,
    pub vehicle_subtype: String,
    pub quantity: i32,
    pub expired_at: DateTime<Utc>,
    pub message: &'static str,
}

impl HoldExpired {
    /// `hold`, expired at `now`.
    pub fn of(hold: &Hold, now: DateTime<Utc>) -> Self {
        Self {
            hold_id: hold.id,
            order_id: hold.order_id,
            transporter_id: hold.transporter_id,
            phase: "FLEX",
            status: hold.status,
            reason: "timeout",
            vehicle_type: hold.vehicle_type.clone(),
            vehicle_subtype: hold.vehicle_subtype.clone(),
            quantity: hold.quantity,
            expired_at: now,
            message: "Your hold expired; the trucks are open to others again",
        }
    }
}

/// `order_cancelled`: the customer cancelled the order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub status: OrderStatus,
    pub reason: String,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub trucks_cancelled: usize,
    pub message: &'static str,
}

/// `broadcast_expired`: an offer's window closed before the order filled
/// (the captain removes the overlay; `order_expired` says the same to the
/// customer).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BroadcastExpired {
    pub broadcast_id: Uuid,
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub status: OrderStatus,
    pub reason: &'static str,
    pub trucks_filled: i32,
    pub trucks_needed: i32,
    pub expired_at: Option<DateTime<Utc>>,
    pub message: &'static str,
}

impl BroadcastExpired {
    /// The offer of `order`, expired.
    pub fn of(order: &Order) -> Self {
        Self {
            broadcast_id: order.id,
            order_id: order.id,
            booking_id: order.id,
            status: order.status,
            reason: "timeout",
            trucks_filled: order.trucks_filled,
            trucks_needed: order.total_trucks,
            expired_at: order.expired_at,
            message: "This request has expired",
        }
    }
}

/// `driver_accepted`: the transporter's driver accepted a trip.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverAccepted {
    pub hold_id: Option<Uuid>,
    pub assignment_id: Uuid,
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub driver_id: Uuid,
    pub driver_name: String,
    pub vehicle_number: String,
    pub status: String,
    pub message: &'static str,
}

impl DriverAccepted {
    /// `a`, just accepted by its driver `driver_name`.
    pub fn of(a: &Assignment, driver_name: String) -> Self {
        Self {
            hold_id: a.hold_id,
            assignment_id: a.id,
            trip_id: a.trip_id,
            order_id: a.order_id,
            booking_id: a.order_id,
            driver_id: a.driver_id,
            driver_name,
            vehicle_number: a.vehicle_number.clone(),
            status: a.status.as_str().to_owned(),
            message: "Your driver accepted the trip",
        }
    }
}

/// `driver_declined`: the transporter's driver declined a trip (or let it
/// time out: `reason`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverDeclined {
    pub order_id: Uuid,
    pub assignment_id: Uuid,
    pub trip_id: Uuid,
    pub driver_id: Uuid,
    pub driver_name: String,
    pub vehicle_number: String,
    pub reason: String,
    pub message: &'static str,
}

/// `driver_rating_updated`: a customer rated the driver's trip; the
/// driver's average now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverRatingUpdated {
    pub driver_id: Uuid,
    pub assignment_id: Uuid,
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub stars: i16,
    pub rating: f64,
    pub total_ratings: i64,
    pub message: &'static str,
}

/// `trip_cancelled`: a driver's trip ended by the customer's cancel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TripCancelled {
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub assignment_id: Uuid,
    pub trip_id: Uuid,
    pub vehicle_number: String,
    pub reason: String,
    pub message: &'static str,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub pickup_address: String,
    pub drop_address: String,
    pub compensation_amount: i64,
    pub settlement_state: &'static str,
}

/// `driver_connectivity_issue`: the customer's truck has gone quiet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverConnectivityIssue {
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub driver_name: String,
    pub vehicle_number: String,
    pub last_seen_seconds: i64,
    pub message: &'static str,
    pub timestamp: String,
}

/// `vehicle_document_expiring`: a vehicle's registration or insurance
/// runs out soon (once per document, 15 days before).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VehicleDocumentExpiring {
    pub vehicle_id: Uuid,
    pub vehicle_number: String,
    pub document: String,
    pub expires_on: String,
    pub days_left: i64,
    pub message: &'static str,
}

/// `driver_verification_changed`: an operator decided a driver's KYC.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverVerificationChanged {
    pub driver_id: Uuid,
    pub verification: &'static str,
    pub is_verified: bool,
    pub reason: Option<String>,
    pub decided_at: String,
}

/// `driver_approaching`: the customer's truck is about to reach the
/// pickup (once per trip).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverApproaching {
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub driver_id: Uuid,
    pub driver_name: String,
    pub vehicle_number: String,
    pub distance_km: f64,
    pub duration_minutes: i64,
    pub duration_text: String,
}

/// `driver_may_be_offline`: the transporter's driver has gone quiet on a
/// trip.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverMayBeOffline {
    pub driver_id: Uuid,
    pub driver_name: String,
    pub vehicle_number: String,
    pub trip_id: Uuid,
    pub assignment_id: Uuid,
    pub last_seen_seconds: i64,
    pub status: &'static str,
    pub message: &'static str,
}

/// `location_updated`: a truck's latest fix, live (never kept).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LocationUpdated {
    pub trip_id: Uuid,
    pub assignment_id: Uuid,
    pub order_id: Uuid,
    pub booking_id: Uuid,
    pub driver_id: Uuid,
    pub vehicle_number: String,
    pub latitude: f64,
    pub longitude: f64,
    pub speed: f64,
    pub bearing: f64,
    pub timestamp: Option<String>,
    pub is_stale: bool,
    pub location_age_ms: i64,
}

/// `connected`: the greeting of a socket that passed the handshake.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub socket_id: Uuid,
    pub user_id: Uuid,
    pub role: &'static str,
    pub rooms: Vec<String>,
}

/// `pong`: the answer to an app's `ping`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Pong {
    /// Always true.
    pub ok: bool,
}

/// `booking_joined`: the socket now hears the order's room.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookingJoined {
    pub order_id: Uuid,
}

/// `error`: a socket request refused (the app shows the message).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SocketError {
    pub message: &'static str,
    /// What the socket asked for, as it sent it.
    pub order_id: String,
}

impl TripAssigned {
    /// `a` for its driver: `truck` of `order`, the customer's name and
    /// phone, `answer_secs` to answer.
    pub fn of(
        a: &Assignment,
        order: &Order,
        truck: &TruckRequest,
        customer: Option<&weelo_persistence::users::User>,
        answer_secs: i64,
        route_points: Vec<Value>,
    ) -> Self {
        Self {
            assignment_id: a.id,
            trip_id: a.trip_id,
            order_id: order.id,
            booking_id: order.id,
            truck_request_id: truck.id,
            pickup: Place::pickup(order),
            drop: Place::drop_of(order),
            pickup_address: order.pickup_address.clone(),
            pickup_city: order.pickup_city.clone(),
            pickup_lat: order.pickup_latitude,
            pickup_lng: order.pickup_longitude,
            drop_address: order.drop_address.clone(),
            drop_city: order.drop_city.clone(),
            drop_lat: order.drop_latitude,
            drop_lng: order.drop_longitude,
            vehicle_number: a.vehicle_number.clone(),
            vehicle_type: truck.vehicle_type.clone(),
            vehicle_subtype: truck.vehicle_subtype.clone(),
            fare_per_truck: truck.price_per_truck,
            fare: truck.price_per_truck,
            distance_km: order.distance_km,
            goods_type: order.goods_type.clone(),
            customer_name: customer
                .and_then(|c| c.name.clone())
                .unwrap_or_else(|| "Customer".to_owned()),
            customer_phone: customer.map(|c| c.phone.clone()),
            assigned_at: iso(a.assigned_at),
            expires_at: iso(a.driver_deadline),
            route_points,
            driver_accept_timeout_seconds: answer_secs,
            remaining_seconds: answer_secs,
            message: "New trip assigned: accept or decline",
            reconnect_delivery: None,
        }
    }
}
