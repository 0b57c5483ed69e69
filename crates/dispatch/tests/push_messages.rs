//! Which events are pushed to whom, and the data message each becomes: the
//! types the apps switch on, the ids they read, every value a string, the
//! priority and TTL, the text in the user's language, the size limit.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_dispatch::events::push::{Priority, Source, message, policy, rooms};
use weelo_dispatch::events::{Room, names};
use weelo_orders::Role;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

const HOUR: Duration = Duration::from_secs(3600);

fn trip_assigned() -> Value {
    json!({
        "assignmentId": "a-1", "tripId": "t-1", "orderId": "o-1", "bookingId": "o-1",
        "truckRequestId": "r-1",
        "pickup": { "address": "Andheri East", "city": "Mumbai", "lat": 19.07, "lng": 72.87 },
        "pickupAddress": "Andheri East", "pickupCity": "Mumbai", "pickupLat": 19.07, "pickupLng": 72.87,
        "dropAddress": "Hadapsar", "dropCity": "Pune", "dropLat": 18.52, "dropLng": 73.85,
        "vehicleNumber": "MH12AB1234", "fare": 9000, "distanceKm": 150,
        "customerName": "Asha", "customerPhone": null,
        "assignedAt": "2027-01-15T08:00:05.000Z", "expiresAt": "2027-01-15T08:00:50.000Z",
        "routePoints": [{ "type": "PICKUP" }], "driverAcceptTimeoutSeconds": 45,
        "remainingSeconds": 45, "message": "New trip"
    })
}

fn source<'a>(topic: &'a str, payload: &'a Value, room: &'a str) -> Source<'a> {
    Source {
        topic,
        payload,
        event_id: 42,
        room,
        language: None,
    }
}

#[test]
fn a_trip_offer_is_a_high_priority_push_that_lives_as_long_as_the_answer_window() {
    let payload = trip_assigned();
    let pushed = message(
        source(names::TRIP_ASSIGNED, &payload, "driver:d"),
        at(10),
        HOUR,
    )
    .unwrap();
    assert_eq!(pushed.kind, "trip_assigned");
    assert_eq!(pushed.priority, Priority::High);
    assert_eq!(
        pushed.ttl,
        Duration::from_secs(40),
        "50 s deadline − 10 s now"
    );
    let data = &pushed.data;
    for (key, value) in [
        ("type", "trip_assigned"),
        ("tripId", "t-1"),
        ("assignmentId", "a-1"),
        ("orderId", "o-1"),
        ("pickupLat", "19.07"),
        ("fare", "9000"),
        ("driverAcceptTimeoutSeconds", "45"),
        ("eventId", "42"),
        ("payloadVersion", "42"),
        ("title", "New trip assigned"),
    ] {
        assert_eq!(data.get(key).map(String::as_str), Some(value), "{key}");
    }
    assert!(data["body"].contains("Mumbai → Pune"), "{}", data["body"]);
    assert!(!data.contains_key("customerPhone"), "null is left out");
    assert_eq!(data["routePoints"], r#"[{"type":"PICKUP"}]"#);
    assert!(
        message(
            source(names::TRIP_ASSIGNED, &payload, "driver:d"),
            at(50),
            HOUR
        )
        .is_none(),
        "no push once the answer window has closed"
    );
}

#[test]
fn the_text_follows_the_users_language() {
    let payload = trip_assigned();
    let mut hindi = source(names::TRIP_ASSIGNED, &payload, "driver:d");
    hindi.language = Some("hi");
    let pushed = message(hindi, at(0), HOUR).unwrap();
    assert_eq!(pushed.data["title"], "नई ट्रिप");
}

#[test]
fn each_role_gets_the_type_its_app_knows() {
    let changed = json!({ "assignmentId": "a", "tripId": "t", "orderId": "o", "status": "at_pickup", "vehicleNumber": "MH12" });
    let to_customer = message(
        source(names::ASSIGNMENT_STATUS_CHANGED, &changed, "customer:c"),
        at(0),
        HOUR,
    )
    .unwrap();
    assert_eq!(to_customer.kind, "driver_arriving");
    assert_eq!(to_customer.priority, Priority::Normal);
    assert_eq!(to_customer.ttl, HOUR);
    assert!(
        message(
            source(names::ASSIGNMENT_STATUS_CHANGED, &changed, "transporter:t"),
            at(0),
            HOUR
        )
        .is_none(),
        "the transporter hears of its driver's answers by driver_accepted / driver_declined / driver_timeout"
    );
    let quiet = json!({ "driverId": "d", "tripId": "t", "vehicleNumber": "MH12" });
    let offline = message(
        source(names::DRIVER_MAY_BE_OFFLINE, &quiet, "transporter:t"),
        at(0),
        HOUR,
    )
    .unwrap();
    assert_eq!(offline.kind, "driver_offline");
    let filled = json!({ "orderId": "o", "trucksNeeded": 2 });
    let confirmed = message(
        source(names::BOOKING_FULLY_FILLED, &filled, "customer:c"),
        at(0),
        HOUR,
    )
    .unwrap();
    assert_eq!(confirmed.kind, "booking_confirmed");
}

#[test]
fn only_the_rooms_of_single_users_in_the_push_lists_are_pushed() {
    let (c, t, d, o) = (
        Uuid::from_u128(1),
        Uuid::from_u128(2),
        Uuid::from_u128(3),
        Uuid::from_u128(4),
    );
    let audience = [
        Room::Customer(c),
        Room::Order(o),
        Room::Transporter(t),
        Room::Driver(d),
    ];
    assert_eq!(
        rooms(names::ORDER_CANCELLED, &audience),
        [format!("transporter:{t}")],
        "the customer cancelled it; the order's watchers are sockets"
    );
    assert_eq!(
        rooms(names::TRIP_CANCELLED, &audience),
        [format!("transporter:{t}"), format!("driver:{d}")]
    );
    assert!(rooms(names::TRUCKS_REMAINING_UPDATE, &audience).is_empty());
    assert!(rooms(names::LOCATION_UPDATED, &audience).is_empty());
    assert_eq!(
        policy(names::NEW_BROADCAST, Role::Transporter),
        Some(Priority::High)
    );
    assert_eq!(
        policy(names::DRIVER_TIMEOUT, Role::Transporter),
        Some(Priority::High)
    );
    assert_eq!(
        policy(names::ORDER_EXPIRED, Role::Transporter),
        None,
        "broadcast_expired is its push"
    );
    assert_eq!(
        policy(names::BROADCAST_EXPIRED, Role::Transporter),
        Some(Priority::Normal)
    );
}

#[test]
fn a_message_over_fcms_limit_leaves_out_lists_first_and_keeps_the_ids() {
    let mut payload = trip_assigned();
    payload["routePoints"] = json!(vec!["x".repeat(100); 60]);
    let pushed = message(
        source(names::TRIP_ASSIGNED, &payload, "driver:d"),
        at(0),
        HOUR,
    )
    .unwrap();
    let size: usize = pushed.data.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(size <= 4000, "{size} bytes");
    assert!(!pushed.data.contains_key("routePoints"));
    assert_eq!(pushed.data["tripId"], "t-1");
}

#[test]
fn a_broadcast_carries_its_own_payload_version() {
    let offer = json!({
        "broadcastId": "o", "orderId": "o", "payloadVersion": 2, "dispatchRevision": 3,
        "expiresAt": "2027-01-15T08:01:00.000Z", "trucksNeeded": 2, "vehicleType": "open",
        "vehicleSubtype": "17 Feet", "farePerTruck": 9000,
        "pickupLocation": { "city": "Mumbai" }, "dropLocation": { "city": "Pune" }
    });
    let pushed = message(
        source(names::NEW_BROADCAST, &offer, "transporter:t"),
        at(0),
        HOUR,
    )
    .unwrap();
    assert_eq!(pushed.data["payloadVersion"], "2");
    assert_eq!(pushed.data["dispatchRevision"], "3");
    assert_eq!(pushed.data["broadcastId"], "o");
    assert_eq!(
        pushed.data["body"],
        "2 × open 17 Feet: Mumbai → Pune, ₹9000/truck"
    );
    assert_eq!(pushed.ttl, Duration::from_secs(60));
}
