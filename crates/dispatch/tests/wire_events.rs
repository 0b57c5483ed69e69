//! The socket events' JSON, pinned: each event of [`Event`] built from fixed
//! rows and compared whole with what the apps parse. A change to a payload
//! shows up here as a diff to read, not in an app in the field.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_dispatch::events::*;
use weelo_orders::{AssignmentStatus, DispatchState, HoldStatus, OrderStatus, Role, TruckStatus};
use weelo_persistence::assignments::Assignment;
use weelo_persistence::holds::Hold;
use weelo_persistence::orders::{Order, TruckRequest};
use weelo_persistence::users::User;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const ORDER: &str = "00000000-0000-0000-0000-000000000001";
const CUSTOMER: &str = "00000000-0000-0000-0000-000000000002";
const TRANSPORTER: &str = "00000000-0000-0000-0000-000000000003";
const DRIVER: &str = "00000000-0000-0000-0000-000000000004";
const ASSIGNMENT: &str = "00000000-0000-0000-0000-000000000005";
const TRIP: &str = "00000000-0000-0000-0000-000000000006";
const TRUCK: &str = "00000000-0000-0000-0000-000000000007";
const HOLD: &str = "00000000-0000-0000-0000-000000000008";

fn order() -> Order {
    Order {
        id: id(1),
        customer_id: id(2),
        pickup_latitude: 19.07,
        pickup_longitude: 72.87,
        pickup_address: "Andheri East".to_owned(),
        pickup_city: Some("Mumbai".to_owned()),
        pickup_state: Some("Maharashtra".to_owned()),
        drop_latitude: 18.52,
        drop_longitude: 73.85,
        drop_address: "Hadapsar".to_owned(),
        drop_city: Some("Pune".to_owned()),
        drop_state: None,
        stops: json!([]),
        distance_km: 150,
        goods_type: Some("Furniture".to_owned()),
        total_trucks: 2,
        trucks_filled: 1,
        total_amount: 30_000,
        status: OrderStatus::PartiallyFilled,
        dispatch_state: DispatchState::Broadcasting,
        dispatch_attempts: 1,
        online_candidates: 3,
        notified_transporters: 2,
        reason_code: None,
        cancel_reason: None,
        expires_at: at(60),
        version: 4,
        created_at: at(0),
        updated_at: at(5),
        cancelled_at: None,
        expired_at: None,
        completed_at: None,
    }
}

fn truck() -> TruckRequest {
    TruckRequest {
        id: id(7),
        order_id: id(1),
        request_number: 1,
        vehicle_type: "open".to_owned(),
        vehicle_subtype: "17ft".to_owned(),
        vehicle_key: "open:17ft".to_owned(),
        price_per_truck: 15_000,
        status: TruckStatus::Assigned,
        hold_id: Some(id(8)),
        transporter_id: Some(id(3)),
        vehicle_id: Some(id(9)),
        driver_id: Some(id(4)),
        assigned_at: Some(at(5)),
        created_at: at(0),
        updated_at: at(5),
        client_price_per_truck: Some(15_000),
        server_price_per_truck: Some(14_200),
    }
}

fn assignment() -> Assignment {
    Assignment {
        id: id(5),
        trip_id: id(6),
        order_id: id(1),
        truck_request_id: id(7),
        hold_id: Some(id(8)),
        transporter_id: id(3),
        vehicle_id: id(9),
        driver_id: id(4),
        vehicle_number: "MH12AB1234".to_owned(),
        status: AssignmentStatus::Pending,
        driver_deadline: at(50),
        decline_reason: None,
        assigned_at: at(5),
        driver_accepted_at: None,
        declined_at: None,
        ended_at: None,
        updated_at: at(5),
        trip_started_at: None,
        silence_reported_at: None,
    }
}

fn customer() -> User {
    User {
        id: id(2),
        phone: "9876543210".to_owned(),
        role: "customer".to_owned(),
        name: Some("Asha".to_owned()),
        email: None,
        company: None,
        gst_number: None,
        pan_number: None,
        address: None,
        city: None,
        state: None,
        profile_photo: None,
        license_number: None,
        preferred_language: None,
        transporter_id: None,
        is_verified: true,
        is_active: true,
        is_available: true,
        last_seen_at: None,
        created_at: at(0),
        updated_at: at(0),
        verification: "unverified".to_owned(),
    }
}

fn pickup() -> Value {
    json!({ "address": "Andheri East", "city": "Mumbai", "lat": 19.07, "lng": 72.87, "latitude": 19.07, "longitude": 72.87 })
}

fn drop_place() -> Value {
    json!({ "address": "Hadapsar", "city": "Pune", "lat": 18.52, "lng": 73.85, "latitude": 18.52, "longitude": 73.85 })
}

/// Checks the name and the whole payload of `event`.
fn pinned(event: Event, name: &str, expected: Value) {
    assert_eq!(event.name(), name);
    assert_eq!(event.payload(), expected, "{name}");
}

#[test]
fn every_event_name_is_unique_and_snake_case() {
    let mut names = Event::NAMES.to_vec();
    names.extend(ClientEvent::NAMES);
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "a name is declared twice");
    assert!(
        names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    );
    for name in ClientEvent::NAMES {
        assert_eq!(ClientEvent::parse(name).unwrap().name(), *name);
    }
    assert_eq!(ClientEvent::parse("made_up"), None);
}

#[test]
fn an_event_is_addressed_to_typed_rooms_and_recorded_as_text() {
    let order = order();
    let outgoing = Event::BookingCompleted(BookingCompleted::of(&order))
        .to(Room::of_order_and(&order, &[id(3)]), order.id);
    let record = outgoing.record();
    assert_eq!(record.topic, "booking_completed");
    assert_eq!(
        record.recipients,
        [
            format!("customer:{CUSTOMER}"),
            format!("order:{ORDER}"),
            format!("transporter:{TRANSPORTER}"),
        ]
    );
    assert_eq!(record.order_id, Some(order.id));
    assert_eq!(record.payload, outgoing.event.payload());
    assert_eq!(Room::Role(Role::Driver).to_string(), "role:driver");
}

#[test]
fn order_created_is_the_answer_the_customer_got() {
    let answer = json!({ "orderId": ORDER, "status": "broadcasting" });
    pinned(
        Event::OrderCreated(OrderCreated(answer.clone())),
        "order_created",
        answer,
    );
}

#[test]
fn new_broadcast() {
    let order = order();
    let offer = NewBroadcast {
        broadcast_id: order.id,
        order_id: order.id,
        customer_id: order.customer_id,
        vehicle_type: "open".to_owned(),
        vehicle_subtype: "17ft".to_owned(),
        trucks_needed: 2,
        total_trucks_needed: 2,
        trucks_filled: 1,
        trucks_still_needed: 1,
        fare_per_truck: 15_000,
        price_per_truck: 15_000,
        pickup_location: Place::pickup(&order),
        drop_location: Place::drop_of(&order),
        pickup: Place::pickup(&order),
        drop: Place::drop_of(&order),
        distance: 150,
        distance_km: 150,
        goods_type: Some("Furniture".to_owned()),
        is_urgent: false,
        expires_at: "2027-01-15T08:01:00.000Z".to_owned(),
        requested_vehicles: vec![RequestedVehicle {
            vehicle_type: "open".to_owned(),
            vehicle_subtype: "17ft".to_owned(),
            count: 2,
            filled_count: 1,
            fare_per_truck: 15_000,
        }],
        trucks_you_can_provide: 1,
        max_trucks_you_can_provide: 1,
        your_available_trucks: 1,
        is_personalized: true,
        pickup_distance_km: 2.4,
        pickup_eta_minutes: 7,
        dispatch_revision: 1,
        order_lifecycle_version: 4,
        payload_version: 1,
        server_time_ms: 1_800_000_005_000,
    };
    pinned(
        Event::NewBroadcast(Box::new(offer)),
        "new_broadcast",
        json!({
            "broadcastId": ORDER, "orderId": ORDER, "customerId": CUSTOMER,
            "vehicleType": "open", "vehicleSubtype": "17ft",
            "trucksNeeded": 2, "totalTrucksNeeded": 2, "trucksFilled": 1, "trucksStillNeeded": 1,
            "farePerTruck": 15000, "pricePerTruck": 15000,
            "pickupLocation": pickup(), "dropLocation": drop_place(),
            "pickup": pickup(), "drop": drop_place(),
            "distance": 150, "distanceKm": 150, "goodsType": "Furniture", "isUrgent": false,
            "expiresAt": "2027-01-15T08:01:00.000Z",
            "requestedVehicles": [{
                "vehicleType": "open", "vehicleSubtype": "17ft", "count": 2, "filledCount": 1,
                "farePerTruck": 15000,
            }],
            "trucksYouCanProvide": 1, "maxTrucksYouCanProvide": 1, "yourAvailableTrucks": 1,
            "isPersonalized": true, "pickupDistanceKm": 2.4, "pickupEtaMinutes": 7, "dispatchRevision": 1,
            "orderLifecycleVersion": 4, "payloadVersion": 1, "serverTimeMs": 1_800_000_005_000_i64,
        }),
    );
}

#[test]
fn broadcast_state_changed_after_a_step_and_when_filled() {
    let step = BroadcastStateChanged {
        order_id: id(1),
        status: OrderStatus::Broadcasting,
        dispatch_state: DispatchState::Broadcasting,
        step: Some(2),
        radius_km: Some(10.0),
        notified_transporters: Some(3),
        online_candidates: Some(5),
    };
    pinned(
        Event::BroadcastStateChanged(step),
        "broadcast_state_changed",
        json!({
            "orderId": ORDER, "status": "broadcasting", "dispatchState": "broadcasting",
            "step": 2, "radiusKm": 10.0, "notifiedTransporters": 3, "onlineCandidates": 5,
        }),
    );
    let filled = BroadcastStateChanged {
        order_id: id(1),
        status: OrderStatus::FullyFilled,
        dispatch_state: DispatchState::Finished,
        step: None,
        radius_km: None,
        notified_transporters: None,
        online_candidates: None,
    };
    pinned(
        Event::BroadcastStateChanged(filled),
        "broadcast_state_changed",
        json!({ "orderId": ORDER, "status": "fully_filled", "dispatchState": "finished" }),
    );
}

#[test]
fn broadcast_dismissed() {
    pinned(
        Event::BroadcastDismissed(BroadcastDismissed {
            broadcast_id: id(1),
            order_id: id(1),
            reason: "fully_filled",
            message: "All trucks of this order are taken",
            trucks_filled: 2,
            trucks_needed: 2,
        }),
        "broadcast_dismissed",
        json!({
            "broadcastId": ORDER, "orderId": ORDER, "reason": "fully_filled",
            "message": "All trucks of this order are taken", "trucksFilled": 2, "trucksNeeded": 2,
        }),
    );
}

#[test]
fn hold_expired() {
    let hold = Hold {
        id: id(8),
        transporter_id: id(3),
        order_id: id(1),
        vehicle_type: "open".to_owned(),
        vehicle_subtype: "17ft".to_owned(),
        vehicle_key: "open:17ft".to_owned(),
        quantity: 2,
        status: HoldStatus::Expired,
        expires_at: at(20),
        created_at: at(5),
        updated_at: at(20),
    };
    pinned(
        Event::HoldExpired(HoldExpired::of(&hold, at(20))),
        "hold_expired",
        json!({
            "holdId": HOLD, "orderId": ORDER, "transporterId": TRANSPORTER, "phase": "FLEX",
            "status": "expired", "reason": "timeout", "vehicleType": "open",
            "vehicleSubtype": "17ft", "quantity": 2, "expiredAt": "2027-01-15T08:00:20Z",
            "message": "Your hold expired; the trucks are open to others again",
        }),
    );
}

#[test]
fn trip_assigned_carries_nested_and_flat_places() {
    let (order, truck, a, customer) = (order(), truck(), assignment(), customer());
    let route = vec![json!({ "type": "PICKUP" }), json!({ "type": "DROP" })];
    let trip = TripAssigned::of(&a, &order, &truck, Some(&customer), 45, route.clone());
    let mut expected = json!({
        "assignmentId": ASSIGNMENT, "tripId": TRIP, "orderId": ORDER, "bookingId": ORDER,
        "truckRequestId": TRUCK, "pickup": pickup(), "drop": drop_place(),
        "pickupAddress": "Andheri East", "pickupCity": "Mumbai", "pickupLat": 19.07, "pickupLng": 72.87,
        "dropAddress": "Hadapsar", "dropCity": "Pune", "dropLat": 18.52, "dropLng": 73.85,
        "vehicleNumber": "MH12AB1234", "vehicleType": "open", "vehicleSubtype": "17ft",
        "farePerTruck": 15000, "fare": 15000, "distanceKm": 150, "goodsType": "Furniture",
        "customerName": "Asha", "customerPhone": "9876543210",
        "assignedAt": "2027-01-15T08:00:05.000Z", "expiresAt": "2027-01-15T08:00:50.000Z",
        "routePoints": route, "driverAcceptTimeoutSeconds": 45, "remainingSeconds": 45,
        "message": "New trip assigned: accept or decline",
    });
    pinned(
        Event::TripAssigned(Box::new(trip.clone())),
        "trip_assigned",
        expected.clone(),
    );

    let mut again = trip;
    again.remaining_seconds = 12;
    again.reconnect_delivery = Some(true);
    expected["remainingSeconds"] = json!(12);
    expected["_reconnectDelivery"] = json!(true);
    pinned(
        Event::TripAssigned(Box::new(again)),
        "trip_assigned",
        expected,
    );
}

#[test]
fn trucks_remaining_update() {
    pinned(
        Event::TrucksRemaining(TrucksRemaining::of(&order(), "open", at(5))),
        "trucks_remaining_update",
        json!({
            "orderId": ORDER, "bookingId": ORDER, "vehicleType": "open", "trucksNeeded": 2,
            "totalTrucks": 2, "trucksFilled": 1, "trucksRemaining": 1,
            "orderStatus": "partially_filled", "status": "partially_filled", "eventVersion": 4,
            "serverTimeMs": 1_800_000_005_000_i64,
        }),
    );
}

#[test]
fn booking_fully_filled() {
    pinned(
        Event::BookingFullyFilled(BookingFullyFilled {
            order_id: id(1),
            booking_id: id(1),
            trucks_filled: 2,
            trucks_needed: 2,
            status: OrderStatus::FullyFilled,
        }),
        "booking_fully_filled",
        json!({ "orderId": ORDER, "bookingId": ORDER, "trucksFilled": 2, "trucksNeeded": 2, "status": "fully_filled" }),
    );
}

#[test]
fn assignment_status_changed_for_an_answer_a_decline_and_a_trip_step() {
    let a = assignment();
    let base = json!({
        "assignmentId": ASSIGNMENT, "tripId": TRIP, "orderId": ORDER, "bookingId": ORDER,
        "driverId": DRIVER, "vehicleNumber": "MH12AB1234", "status": "pending",
        "message": "The driver accepted the trip",
    });
    pinned(
        Event::AssignmentStatusChanged(AssignmentStatusChanged::of(
            &a,
            "The driver accepted the trip",
        )),
        "assignment_status_changed",
        base.clone(),
    );
    let mut declined =
        AssignmentStatusChanged::of(&a, "The driver declined; the truck is open again");
    declined.status = "driver_declined".to_owned();
    declined.reason = Some("declined");
    let mut expected = base.clone();
    expected["status"] = json!("driver_declined");
    expected["reason"] = json!("declined");
    expected["message"] = json!("The driver declined; the truck is open again");
    pinned(
        Event::AssignmentStatusChanged(declined),
        "assignment_status_changed",
        expected,
    );

    let mut step = AssignmentStatusChanged::of(&a, "The driver reached the pickup");
    step.status = "at_pickup".to_owned();
    step.order_status = Some("in_progress".to_owned());
    let mut expected = base;
    expected["status"] = json!("at_pickup");
    expected["orderStatus"] = json!("in_progress");
    expected["message"] = json!("The driver reached the pickup");
    pinned(
        Event::AssignmentStatusChanged(step),
        "assignment_status_changed",
        expected,
    );
}

#[test]
fn driver_timeout() {
    pinned(
        Event::DriverTimeout(DriverTimeout {
            assignment_id: id(5),
            trip_id: id(6),
            order_id: id(1),
            driver_id: id(4),
            driver_name: "Ravi".to_owned(),
            vehicle_number: "MH12AB1234".to_owned(),
            reason: "timeout",
            message: "The driver did not answer in time",
        }),
        "driver_timeout",
        json!({
            "assignmentId": ASSIGNMENT, "tripId": TRIP, "orderId": ORDER, "driverId": DRIVER,
            "driverName": "Ravi", "vehicleNumber": "MH12AB1234", "reason": "timeout",
            "message": "The driver did not answer in time",
        }),
    );
}

#[test]
fn booking_completed() {
    let mut order = order();
    order.status = OrderStatus::Completed;
    order.trucks_filled = 2;
    order.completed_at = Some(at(3600));
    pinned(
        Event::BookingCompleted(BookingCompleted::of(&order)),
        "booking_completed",
        json!({
            "orderId": ORDER, "bookingId": ORDER, "status": "completed",
            "completedAt": "2027-01-15T09:00:00Z", "trucksFilled": 2,
            "message": "Every truck of this order has delivered",
        }),
    );
}

#[test]
fn order_expired_is_one_shape_whoever_expires_it() {
    let mut order = order();
    order.status = OrderStatus::FullyFilled;
    order.total_trucks = 1;
    order.reason_code = Some("PARTIAL_FILL_TIMEOUT".to_owned());
    order.expired_at = Some(at(60));
    pinned(
        Event::OrderExpired(OrderExpired::of(&order, 1)),
        "order_expired",
        json!({
            "orderId": ORDER, "status": "fully_filled", "reasonCode": "PARTIAL_FILL_TIMEOUT",
            "reason": "PARTIAL_FILL_TIMEOUT", "trucksFilled": 1, "totalTrucks": 1,
            "trucksExpired": 1, "expiredAt": "2027-01-15T08:01:00Z",
            "message": "The search ended; the trucks already assigned will run",
        }),
    );
    order.status = OrderStatus::Expired;
    order.reason_code = Some("NO_ONLINE_TRANSPORTERS".to_owned());
    let payload = Event::OrderExpired(OrderExpired::of(&order, 2)).payload();
    assert_eq!(
        payload["message"],
        "No transporters were online near the pickup"
    );
    order.reason_code = Some("NO_TRANSPORTER_ACCEPTANCE".to_owned());
    let payload = Event::OrderExpired(OrderExpired::of(&order, 2)).payload();
    assert_eq!(payload["message"], "No transporter accepted in time");
}

#[test]
fn order_cancelled_and_trip_cancelled() {
    pinned(
        Event::OrderCancelled(OrderCancelled {
            order_id: id(1),
            status: OrderStatus::Cancelled,
            reason: "changed plans".to_owned(),
            cancelled_at: Some(at(30)),
            trucks_cancelled: 1,
            message: "The customer cancelled this order",
        }),
        "order_cancelled",
        json!({
            "orderId": ORDER, "status": "cancelled", "reason": "changed plans",
            "cancelledAt": "2027-01-15T08:00:30Z", "trucksCancelled": 1,
            "message": "The customer cancelled this order",
        }),
    );
    pinned(
        Event::TripCancelled(TripCancelled {
            order_id: id(1),
            booking_id: id(1),
            assignment_id: id(5),
            trip_id: id(6),
            vehicle_number: "MH12AB1234".to_owned(),
            reason: "customer_cancelled".to_owned(),
            message: "The customer cancelled this trip",
            cancelled_at: Some(at(30)),
            pickup_address: "Andheri East".to_owned(),
            drop_address: "Hadapsar".to_owned(),
            compensation_amount: 0,
            settlement_state: "none",
        }),
        "trip_cancelled",
        json!({
            "orderId": ORDER, "bookingId": ORDER, "assignmentId": ASSIGNMENT, "tripId": TRIP,
            "vehicleNumber": "MH12AB1234", "reason": "customer_cancelled",
            "message": "The customer cancelled this trip", "cancelledAt": "2027-01-15T08:00:30Z",
            "pickupAddress": "Andheri East", "dropAddress": "Hadapsar",
            "compensationAmount": 0, "settlementState": "none",
        }),
    );
}

#[test]
fn a_silent_truck_is_reported_to_the_customer_and_the_transporter() {
    pinned(
        Event::DriverConnectivityIssue(DriverConnectivityIssue {
            trip_id: id(6),
            order_id: id(1),
            driver_name: "Ravi".to_owned(),
            vehicle_number: "MH12AB1234".to_owned(),
            last_seen_seconds: 130,
            message: "We have not heard from the truck for a while",
            timestamp: "2027-01-15T08:02:10.000Z".to_owned(),
        }),
        "driver_connectivity_issue",
        json!({
            "tripId": TRIP, "orderId": ORDER, "driverName": "Ravi", "vehicleNumber": "MH12AB1234",
            "lastSeenSeconds": 130, "message": "We have not heard from the truck for a while",
            "timestamp": "2027-01-15T08:02:10.000Z",
        }),
    );
    pinned(
        Event::DriverMayBeOffline(DriverMayBeOffline {
            driver_id: id(4),
            driver_name: "Ravi".to_owned(),
            vehicle_number: "MH12AB1234".to_owned(),
            trip_id: id(6),
            assignment_id: id(5),
            last_seen_seconds: 130,
            status: "in_transit",
            message: "The driver's phone has gone quiet on a trip",
        }),
        "driver_may_be_offline",
        json!({
            "driverId": DRIVER, "driverName": "Ravi", "vehicleNumber": "MH12AB1234",
            "tripId": TRIP, "assignmentId": ASSIGNMENT, "lastSeenSeconds": 130,
            "status": "in_transit", "message": "The driver's phone has gone quiet on a trip",
        }),
    );
}

#[test]
fn location_updated() {
    pinned(
        Event::LocationUpdated(LocationUpdated {
            trip_id: id(6),
            assignment_id: id(5),
            order_id: id(1),
            booking_id: id(1),
            driver_id: id(4),
            vehicle_number: "MH12AB1234".to_owned(),
            latitude: 19.1,
            longitude: 72.9,
            speed: 8.5,
            bearing: 90.0,
            timestamp: Some("2027-01-15T08:00:40.000Z".to_owned()),
            is_stale: false,
            location_age_ms: 1200,
        }),
        "location_updated",
        json!({
            "tripId": TRIP, "assignmentId": ASSIGNMENT, "orderId": ORDER, "bookingId": ORDER,
            "driverId": DRIVER, "vehicleNumber": "MH12AB1234", "latitude": 19.1, "longitude": 72.9,
            "speed": 8.5, "bearing": 90.0, "timestamp": "2027-01-15T08:00:40.000Z",
            "isStale": false, "locationAgeMs": 1200,
        }),
    );
}

#[test]
fn the_socket_greeting_and_its_answers() {
    pinned(
        Event::Connected(Connected {
            socket_id: id(10),
            user_id: id(2),
            role: "customer",
            rooms: vec![format!("customer:{CUSTOMER}")],
        }),
        "connected",
        json!({
            "socketId": "00000000-0000-0000-0000-00000000000a", "userId": CUSTOMER,
            "role": "customer", "rooms": [format!("customer:{CUSTOMER}")],
        }),
    );
    pinned(
        Event::Pong(Pong { ok: true }),
        "pong",
        json!({ "ok": true }),
    );
    pinned(
        Event::BookingJoined(BookingJoined { order_id: id(1) }),
        "booking_joined",
        json!({ "orderId": ORDER }),
    );
    pinned(
        Event::Error(SocketError {
            message: "you cannot join this booking",
            order_id: "not-an-id".to_owned(),
        }),
        "error",
        json!({ "message": "you cannot join this booking", "orderId": "not-an-id" }),
    );
}

#[test]
fn broadcast_expired_driver_accepted_and_driver_declined() {
    let mut expired = order();
    expired.status = OrderStatus::Expired;
    expired.expired_at = Some(at(60));
    pinned(
        Event::BroadcastExpired(BroadcastExpired::of(&expired)),
        "broadcast_expired",
        json!({
            "broadcastId": ORDER, "orderId": ORDER, "bookingId": ORDER, "status": "expired",
            "reason": "timeout", "trucksFilled": 1, "trucksNeeded": 2,
            "expiredAt": "2027-01-15T08:01:00Z", "message": "This request has expired",
        }),
    );
    let mut accepted = assignment();
    accepted.status = AssignmentStatus::DriverAccepted;
    pinned(
        Event::DriverAccepted(DriverAccepted::of(&accepted, "Ravi".to_owned())),
        "driver_accepted",
        json!({
            "holdId": HOLD, "assignmentId": ASSIGNMENT, "tripId": TRIP, "orderId": ORDER,
            "bookingId": ORDER, "driverId": DRIVER, "driverName": "Ravi",
            "vehicleNumber": "MH12AB1234", "status": "driver_accepted",
            "message": "Your driver accepted the trip",
        }),
    );
    pinned(
        Event::DriverDeclined(DriverDeclined {
            order_id: id(1),
            assignment_id: id(5),
            trip_id: id(6),
            driver_id: id(4),
            driver_name: "Ravi".to_owned(),
            vehicle_number: "MH12AB1234".to_owned(),
            reason: "vehicle breakdown".to_owned(),
            message: "The driver declined; the truck is open again",
        }),
        "driver_declined",
        json!({
            "orderId": ORDER, "assignmentId": ASSIGNMENT, "tripId": TRIP, "driverId": DRIVER,
            "driverName": "Ravi", "vehicleNumber": "MH12AB1234", "reason": "vehicle breakdown",
            "message": "The driver declined; the truck is open again",
        }),
    );
}

#[test]
fn the_fleet_events_carry_the_counters_the_captain_app_keeps() {
    use weelo_persistence::fleet_stats::{DriverStats, FleetStats};
    let fleet_stats = FleetStats {
        total: 3,
        available: 1,
        in_transit: 1,
        maintenance: 1,
    };
    pinned(
        Event::VehicleStatusChanged(VehicleChange {
            action: "status_changed",
            vehicle_id: id(9),
            vehicle: None,
            fleet_stats,
        }),
        "vehicle_status_changed",
        json!({
            "action": "status_changed", "vehicleId": "00000000-0000-0000-0000-000000000009",
            "fleetStats": { "total": 3, "available": 1, "in_transit": 1, "maintenance": 1 },
        }),
    );
    pinned(
        Event::DriverStatusChanged(DriverStatusChanged {
            driver_id: id(4),
            driver_name: "Ravi".to_owned(),
            is_online: true,
            action: "online",
            timestamp: "2027-01-15T08:00:00.000Z".to_owned(),
            driver_stats: DriverStats {
                total: 2,
                available: 1,
                on_trip: 1,
            },
        }),
        "driver_status_changed",
        json!({
            "driverId": DRIVER, "driverName": "Ravi", "isOnline": true, "action": "online",
            "timestamp": "2027-01-15T08:00:00.000Z",
            "driverStats": { "total": 2, "available": 1, "onTrip": 1 },
        }),
    );
}
