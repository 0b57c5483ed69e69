//! Trips end to end: status updates forward only, GPS fixes from the socket
//! and from batches reaching the customer, the order in progress and then
//! completed once, the silence watchdog.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::dispatch::{Fleet, fleet_at, order_status, take_one, two_trucks};
use crate::helpers::{TestApp, assert_error, spawn_app};
use crate::realtime::Client;
use weelo_server::Clock;

/// The apps' timestamp form.
fn iso(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An order of two trucks, one taken by each fleet and accepted by its
/// driver: (customer token, order id, [trip ids]).
pub(crate) async fn two_accepted_trips(
    app: &TestApp,
    t1: &Fleet,
    t2: &Fleet,
) -> (String, String, Vec<String>) {
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut trips = Vec::new();
    for fleet in [t1, t2] {
        let made = take_one(app, fleet, &order_id).await;
        let assignment = made["assignmentIds"][0].as_str().unwrap();
        let (status, body) = app
            .call(
                Method::PATCH,
                &format!("assignments/{assignment}/accept"),
                Some(&fleet.driver_token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        trips.push(made["tripIds"][0].as_str().unwrap().to_owned());
    }
    (customer, order_id, trips)
}

pub(crate) async fn set_status(
    app: &TestApp,
    driver: &str,
    trip: &str,
    status: &str,
) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("tracking/trip/{trip}/status"),
        Some(driver),
        Some(json!({ "status": status })),
    )
    .await
}

async fn batch(app: &TestApp, driver: &str, trip: &str, points: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "tracking/batch",
        Some(driver),
        Some(json!({ "tripId": trip, "points": points })),
    )
    .await
}

/// docs/app-contract.md §7 step 5 for two trips of one order: one driver on the
/// socket, the other HTTP-only with one-point batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_trips_run_to_completion_and_the_customer_follows_them() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (customer, order_id, trips) = two_accepted_trips(&app, &t1, &t2).await;
    let mut watcher = Client::start_long(
        &app.address,
        &customer,
        Some(&order_id),
        "booking_completed",
    );
    watcher.event("booking_joined").await;

    let (status, opened) = app
        .get_as(&format!("tracking/{}", trips[0]), &t1.driver_token)
        .await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    assert_eq!(
        opened["data"]["status"], "heading_to_pickup",
        "accepted counts as on the way"
    );
    let (_, recovered) = app.get_as("tracking/active-trip", &t1.driver_token).await;
    assert_eq!(recovered["data"]["tripId"], trips[0].as_str());

    for word in ["at_pickup", "loading_complete", "in_transit"] {
        let (status, moved) = set_status(&app, &t1.driver_token, &trips[0], word).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["data"]["status"], word);
        let heard = watcher.event("assignment_status_changed").await;
        assert_eq!(
            (heard["status"].as_str(), heard["tripId"].as_str()),
            (Some(word), Some(trips[0].as_str()))
        );
    }
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "in_progress"
    );

    // Driver 1 on the socket: its fix reaches the customer.
    let fix = json!([["update_location", { "tripId": trips[0], "latitude": 19.0500, "longitude": 72.9000, "speed": 12.5, "bearing": 180.0 }]]);
    let mut d1 = Client::start_emitting(&app.address, &t1.driver_token, &fix, "never");
    d1.event("connected").await;
    let moved = watcher.event("location_updated").await;
    assert_eq!(moved["tripId"], trips[0].as_str());
    assert_eq!(moved["latitude"], 19.05);
    assert_eq!(moved["isStale"], false);
    drop(d1);

    // Driver 2 without a socket: one-point batches track as well.
    for word in ["at_pickup", "loading_complete", "in_transit"] {
        assert_eq!(
            set_status(&app, &t2.driver_token, &trips[1], word).await.0,
            StatusCode::OK
        );
    }
    let now = app.clock.now();
    let point = json!([{ "latitude": 18.9, "longitude": 73.1, "speed": 15.0, "bearing": 90.0, "timestamp": iso(now) }]);
    let (status, counted) = batch(&app, &t2.driver_token, &trips[1], point).await;
    assert_eq!(status, StatusCode::OK, "{counted}");
    assert_eq!(counted["data"]["accepted"], 1);
    loop {
        let moved = watcher.event("location_updated").await;
        if moved["tripId"] == trips[1].as_str() {
            assert_eq!(moved["longitude"], 73.1);
            break;
        }
    }
    let (_, markers) = app
        .get_as(&format!("tracking/booking/{order_id}"), &customer)
        .await;
    let with_position = markers["data"]["trucks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["latitude"].is_number())
        .count();
    assert_eq!(with_position, 2, "{markers}");
    let (_, trucks) = app
        .get_as(&format!("bookings/{order_id}/trucks"), &customer)
        .await;
    assert_eq!(
        trucks["data"]["trucks"].as_array().unwrap().len(),
        2,
        "{trucks}"
    );
    let (_, fleet) = app.get_as("tracking/fleet", &t2.token).await;
    assert_eq!(fleet["data"]["activeDrivers"], 1);

    // The first trip ends; the order waits for the second.
    assert_eq!(
        set_status(&app, &t1.driver_token, &trips[0], "completed")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "in_progress"
    );
    assert_eq!(
        app.count_rows("vehicles WHERE status = 'available'").await,
        1,
        "its truck is free again"
    );
    let (_, done) = set_status(&app, &t2.driver_token, &trips[1], "completed").await;
    assert_eq!(done["data"]["orderCompleted"], true, "{done}");
    let completed = watcher.event("booking_completed").await;
    assert_eq!(completed["orderId"], order_id.as_str());
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "completed"
    );
    assert_eq!(
        app.count_rows("outbox WHERE topic = 'booking_completed'")
            .await,
        1
    );
    let (_, history) = app
        .get_as("driver/trips?status=completed", &t1.driver_token)
        .await;
    assert_eq!(history["data"]["total"], 1, "{history}");
    assert_eq!(history["data"]["trips"][0]["fare"], 24000);
    let (_, nothing) = app.get_as("driver/trips/active", &t1.driver_token).await;
    assert_eq!(nothing["data"]["hasActiveTrip"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statuses_move_only_forward_and_only_for_the_trips_driver() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (_, _, trips) = two_accepted_trips(&app, &t1, &t2).await;
    let trip = &trips[0];
    let (status, skipped) = set_status(&app, &t1.driver_token, trip, "in_transit").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&skipped, "INVALID_TRANSITION");
    assert_eq!(
        skipped["error"]["details"]["currentStatus"],
        "heading_to_pickup"
    );
    assert_eq!(
        set_status(&app, &t1.driver_token, trip, "at_pickup")
            .await
            .0,
        StatusCode::OK
    );
    let (status, again) = set_status(&app, &t1.driver_token, trip, "at_pickup").await;
    assert_eq!(status, StatusCode::OK, "a repeat is idempotent");
    assert_eq!(again["data"]["changed"], false);
    let (status, back) = set_status(&app, &t1.driver_token, trip, "heading_to_pickup").await;
    assert_eq!(status, StatusCode::CONFLICT, "{back}");
    let (status, unknown) = set_status(&app, &t1.driver_token, trip, "teleported").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unknown}");
    let (status, foreign) = set_status(&app, &t2.driver_token, trip, "loading_complete").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&foreign, "TRIP_NOT_FOUND");
    let point = json!([{ "latitude": 19.0, "longitude": 72.9 }]);
    let (status, _) = batch(&app, &t2.driver_token, trip, point).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another driver's trip");
    let (status, _) = app
        .get_as(&format!("tracking/{trip}"), &t2.driver_token)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count_rows("outbox WHERE topic = 'assignment_status_changed'")
            .await,
        3,
        "two accepts and one move; refusals and repeats tell nobody"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_completions_complete_the_order_once() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (customer, order_id, trips) = two_accepted_trips(&app, &t1, &t2).await;
    for (fleet, trip) in [(&t1, &trips[0]), (&t2, &trips[1])] {
        for word in ["at_pickup", "loading_complete", "in_transit"] {
            assert_eq!(
                set_status(&app, &fleet.driver_token, trip, word).await.0,
                StatusCode::OK
            );
        }
    }
    let calls = (0..10).map(|n| {
        let (fleet, trip) = if n % 2 == 0 {
            (&t1, &trips[0])
        } else {
            (&t2, &trips[1])
        };
        set_status(&app, &fleet.driver_token, trip, "completed")
    });
    let answers = futures_util::future::join_all(calls).await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::OK),
        "{answers:?}"
    );
    let completions = answers
        .iter()
        .filter(|(_, b)| b["data"]["orderCompleted"] == true)
        .count();
    assert_eq!(completions, 1, "{answers:?}");
    assert_eq!(
        app.count_rows("outbox WHERE topic = 'booking_completed'")
            .await,
        1
    );
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "completed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_counts_each_kind_of_point_and_keeps_only_the_good_ones() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (_, _, trips) = two_accepted_trips(&app, &t1, &t2).await;
    let trip = &trips[0];
    let at = |secs: i64| iso(app.clock.now() + Duration::seconds(secs));
    let fix = |secs: i64| json!({ "latitude": 19.06, "longitude": 72.88, "speed": 8.0, "bearing": 45.0, "accuracy": 12.0, "timestamp": at(secs) });
    let (_, first) = batch(&app, &t1.driver_token, trip, json!([fix(-30), fix(-20)])).await;
    assert_eq!(first["data"]["accepted"], 2, "{first}");
    let points = json!([
        fix(-10),
        fix(-5),
        fix(-10),        // the same time twice in the batch
        fix(-20),        // already stored
        fix(-40),        // older than the latest kept
        fix(3_600),      // an hour in the future
        { "latitude": 95.0, "longitude": 72.88, "timestamp": at(-1) },
        { "latitude": 19.06, "longitude": 72.88, "speed": 500.0, "timestamp": at(-2) },
        { "longitude": 72.88, "timestamp": at(-3) },
    ]);
    let (status, counted) = batch(&app, &t1.driver_token, trip, points).await;
    assert_eq!(status, StatusCode::OK, "{counted}");
    let data = &counted["data"];
    assert_eq!(
        (
            data["processed"].as_i64(),
            data["accepted"].as_i64(),
            data["duplicate"].as_i64(),
            data["stale"].as_i64(),
            data["invalid"].as_i64()
        ),
        (Some(9), Some(2), Some(2), Some(1), Some(4)),
        "{counted}"
    );
    assert_eq!(data["lastAcceptedTimestamp"], at(-5));
    assert_eq!(app.count_rows("trip_points").await, 4);
    let (status, bad) = batch(&app, &t1.driver_token, trip, json!("not a list")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_silent_truck_on_the_road_is_reported_once() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (_, _, trips) = two_accepted_trips(&app, &t1, &t2).await;
    for word in ["at_pickup", "loading_complete", "in_transit"] {
        set_status(&app, &t1.driver_token, &trips[0], word).await;
    }
    app.clock.advance(Duration::seconds(119));
    assert_eq!(app.jobs.sweep_once().await.unwrap().silent, 0);
    app.clock.advance(Duration::seconds(2));
    assert_eq!(app.jobs.sweep_once().await.unwrap().silent, 1);
    assert_eq!(app.jobs.sweep_once().await.unwrap().silent, 0, "once");
    assert_eq!(
        app.count_rows("outbox WHERE topic = 'driver_connectivity_issue'")
            .await,
        1
    );
    assert_eq!(
        app.count_rows("outbox WHERE topic = 'driver_may_be_offline'")
            .await,
        1
    );
    // Heard from again, a later silence is reported anew.
    let now = iso(app.clock.now());
    batch(
        &app,
        &t1.driver_token,
        &trips[0],
        json!([{ "latitude": 19.0, "longitude": 72.9, "timestamp": now }]),
    )
    .await;
    app.clock.advance(Duration::seconds(121));
    assert_eq!(app.jobs.sweep_once().await.unwrap().silent, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_watchdog_covers_every_trip_on_the_road_not_only_a_first_page() {
    // A page of one: the silent trip is never on the first page.
    let app = crate::helpers::spawn_tuned(|settings| settings.orders.sweep_batch = 1).await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (_, _, trips) = two_accepted_trips(&app, &t1, &t2).await;
    for (driver, trip) in [(&t1.driver_token, &trips[0]), (&t2.driver_token, &trips[1])] {
        for word in ["at_pickup", "loading_complete", "in_transit"] {
            assert_eq!(set_status(&app, driver, trip, word).await.0, StatusCode::OK);
        }
    }
    app.clock.advance(Duration::seconds(121));
    let now = iso(app.clock.now());
    let (status, _) = batch(
        &app,
        &t1.driver_token,
        &trips[0],
        json!([{ "latitude": 19.0, "longitude": 72.9, "timestamp": now }]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(app.jobs.sweep_once().await.unwrap().silent, 1);
    assert_eq!(
        app.count_rows(&format!(
            "outbox WHERE topic = 'driver_connectivity_issue' AND payload->>'tripId' = '{}'",
            trips[1]
        ))
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partly_filled_order_with_a_truck_in_transit_cannot_be_cancelled() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let made = take_one(&app, &t1, &order_id).await;
    let assignment = made["assignmentIds"][0].as_str().unwrap();
    let trip = made["tripIds"][0].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("assignments/{assignment}/accept"),
            Some(&t1.driver_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for word in ["at_pickup", "loading_complete", "in_transit"] {
        let (status, body) = set_status(&app, &t1.driver_token, trip, word).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "partially_filled",
        "one of two trucks is filled"
    );

    let (status, body) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{order_id}/cancel"),
            Some(&customer),
            None,
        )
        .await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "CANCEL_BLOCKED");
    let (_, preview) = app
        .get_as(
            &format!("bookings/orders/{order_id}/cancel-preview"),
            &customer,
        )
        .await;
    assert_eq!(preview["data"]["cancelDecision"], "blocked_dispute_only");
    let (status, body) = set_status(&app, &t1.driver_token, trip, "completed").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the trip ends on a live order: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_an_instance_keeps_of_trips_is_dropped_once_they_go_quiet() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (_, _, trips) = two_accepted_trips(&app, &t1, &t2).await;
    for word in ["at_pickup", "loading_complete", "in_transit"] {
        set_status(&app, &t1.driver_token, &trips[0], word).await;
    }
    let now = iso(app.clock.now());
    batch(
        &app,
        &t1.driver_token,
        &trips[0],
        json!([{ "latitude": 19.0, "longitude": 72.9, "timestamp": now }]),
    )
    .await;
    let (read, fixes, _) = app.jobs.tracking().kept();
    assert!(read >= 1 && fixes == 1, "{:?}", app.jobs.tracking().kept());

    // A day later the trip went quiet (the phone died): nothing of it is
    // kept in memory any more, whatever the watchdog reports.
    app.clock
        .advance(Duration::hours(24) + Duration::seconds(1));
    app.jobs.sweep_once().await.unwrap();

    assert_eq!(app.jobs.tracking().kept(), (0, 0, 0));
}
