//! Push notifications end to end, against a local FCM stand-in that checks
//! the service account's signed assertion and every message: the driver
//! who opens no socket hears of its trip and runs it, a transporter with a
//! live socket is not also pushed, retries, pruned tokens, an outage past
//! the deadline, and an instance that stops before it sends.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

mod stand_in;

use std::time::Duration;

use chrono::Duration as Span;
use reqwest::{Method, StatusCode};
use serde_json::json;
use weelo_server::Clock;

use crate::dispatch::{Fleet, fleet_at, one_truck, take_one};
use crate::helpers::{Sibling, TestApp, spawn_tuned, test_settings};
use crate::realtime::Client;
use crate::trips::set_status;
use stand_in::{Answer, FcmStandIn};

async fn register_token(app: &TestApp, bearer: &str, device_token: &str) {
    let body = json!({ "token": device_token, "deviceType": "android", "deviceId": device_token });
    let (status, answer) = app
        .call(
            Method::POST,
            "notifications/register-token",
            Some(bearer),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// A server pushing through a fresh stand-in (settings changed by `tune`)
/// and a fleet near the pickup whose transporter registered
/// `transporter-device-1`.
async fn pushing(tune: impl FnOnce(&mut weelo_server::Settings)) -> (FcmStandIn, TestApp, Fleet) {
    let fcm = FcmStandIn::start().await;
    let app = spawn_tuned(|s| {
        fcm.configure(s);
        tune(s);
    })
    .await;
    let fleet = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    register_token(&app, &fleet.token, "transporter-device-1").await;
    (fcm, app, fleet)
}

/// The value of one series of `GET /metrics` (0 when absent).
pub(crate) async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Waits (up to 10 s) until `check` holds.
async fn until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("waited in vain: {what}");
}

async fn settled(app: &TestApp) {
    until("every push job settled", || async {
        app.count_rows("push_jobs").await == 0
    })
    .await;
}

async fn device_tokens(app: &TestApp) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        token: String,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await.unwrap();
    let rows: Vec<Row> = diesel::sql_query("SELECT token FROM device_tokens ORDER BY token")
        .load(&mut conn)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.token).collect()
}

/// docs/app-contract.md §7 with the driver app as shipped: no socket, a
/// registered token. Its trip comes by push, it accepts over HTTP, and the
/// trip runs to completion; its transporter, backgrounded, is pushed the
/// offer and the driver's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_driver_without_a_socket_hears_of_its_trip_by_push_and_completes_it() {
    let (fcm, app, t1) = pushing(|_| {}).await;
    register_token(&app, &t1.driver_token, "driver-device-1").await;
    let customer = app.token("9876543210", "customer").await;
    let (status, created) = app.create_order(&customer, "key-1", &one_truck()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let order_id = created["data"]["order"]["id"].as_str().unwrap().to_owned();

    let offer = fcm
        .wait_for(|r| r.token == "transporter-device-1" && r.get("type") == "new_broadcast")
        .await;
    assert_eq!(offer.get("broadcastId"), order_id);
    assert_eq!(offer.android["priority"], "high");
    assert_eq!(offer.android["ttl"], "60s", "the time left to answer");
    assert!(offer.get("title").len() > 3 && offer.get("body").contains("Mumbai"));
    assert!(!offer.get("eventId").is_empty() && !offer.get("payloadVersion").is_empty());

    let made = take_one(&app, &t1, &order_id).await;
    let (assignment, trip) = (
        made["assignmentIds"][0].as_str().unwrap(),
        made["tripIds"][0].as_str().unwrap(),
    );
    let assigned = fcm
        .wait_for(|r| r.token == "driver-device-1" && r.get("type") == "trip_assigned")
        .await;
    assert_eq!(
        (assigned.get("tripId"), assigned.get("assignmentId")),
        (trip, assignment)
    );
    assert_eq!(assigned.get("orderId"), order_id);
    for key in [
        "pickupAddress",
        "pickupLat",
        "pickupLng",
        "dropAddress",
        "vehicleNumber",
        "fare",
        "distanceKm",
        "customerName",
        "assignedAt",
        "expiresAt",
        "driverAcceptTimeoutSeconds",
    ] {
        assert!(!assigned.get(key).is_empty(), "trip_assigned lacks {key}");
    }
    assert_eq!(assigned.android["priority"], "high");
    assert_eq!(assigned.android["ttl"], "45s");

    let (status, accepted) = app
        .call(
            Method::PATCH,
            &format!("assignments/{assignment}/accept"),
            Some(&t1.driver_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let told = fcm
        .wait_for(|r| r.token == "transporter-device-1" && r.get("type") == "driver_accepted")
        .await;
    assert_eq!(told.get("driverName"), "Driver 1");
    assert_eq!(told.android["priority"], "normal");

    for word in ["at_pickup", "loading_complete", "in_transit", "completed"] {
        let (status, moved) = set_status(&app, &t1.driver_token, trip, word).await;
        assert_eq!(status, StatusCode::OK, "{word}: {moved}");
    }
    fcm.wait_for(|r| r.token == "transporter-device-1" && r.get("type") == "booking_completed")
        .await;
    let (_, order) = app
        .get_as(&format!("bookings/orders/{order_id}/status"), &customer)
        .await;
    assert_eq!(order["data"]["status"], "completed");
    settled(&app).await;
    assert!(fcm.refusals().is_empty(), "{:?}", fcm.refusals());
    assert_eq!(fcm.token_requests(), 1, "the access token is kept");
    assert_eq!(fcm.delivered("driver-device-1", "trip_assigned").len(), 1);
    assert_eq!(
        metric(&app, r#"weelo_push_sent_total{type="trip_assigned"}"#).await,
        1.0
    );
}

/// A transporter whose socket is live hears the offer there and is not
/// pushed; once it disconnects, the next offer comes as a push.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_socket_spares_the_push_and_a_closed_one_brings_it_back() {
    let (fcm, app, t1) = pushing(|_| {}).await;
    let mut socket = Client::start_long(&app.address, &t1.token, None, "never");
    socket.event("connected").await;

    let first = app.token("9876543210", "customer").await;
    let (status, _) = app.create_order(&first, "key-1", &one_truck()).await;
    assert_eq!(status, StatusCode::CREATED);
    socket.event("new_broadcast").await;
    settled(&app).await;
    assert!(
        fcm.delivered("transporter-device-1", "new_broadcast")
            .is_empty()
    );
    assert_eq!(
        metric(&app, r#"weelo_push_skipped_total{reason="live_socket"}"#).await,
        1.0
    );

    drop(socket);
    until("the socket's claim is dropped", || async {
        app.redis
            .keys()
            .is_ok_and(|keys| !keys.iter().any(|k| k.contains("sockets:")))
    })
    .await;
    let second = app.token("9876543211", "customer").await;
    let (status, created) = app.create_order(&second, "key-2", &one_truck()).await;
    assert_eq!(status, StatusCode::CREATED);
    let pushed = fcm
        .wait_for(|r| r.token == "transporter-device-1" && r.get("type") == "new_broadcast")
        .await;
    assert_eq!(
        pushed.get("orderId"),
        created["data"]["order"]["id"].as_str().unwrap()
    );
}

/// FCM answers 503 twice, then 200: the push is delivered once, after two
/// retries whose waits the clock controls; a `Retry-After` is honoured.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_fcm_is_retried_with_backoff_and_the_push_delivered_once() {
    let (fcm, app, _) = pushing(|_| {}).await;
    fcm.script(&[Answer::Status(503, None), Answer::Status(503, Some(20))]);
    let customer = app.token("9876543210", "customer").await;
    app.create_order(&customer, "key-1", &one_truck()).await;

    let attempts = || {
        fcm.received()
            .iter()
            .filter(|r| r.get("type") == "new_broadcast")
            .count()
    };
    until("the first attempt", || async { attempts() == 1 }).await;
    app.clock.advance(Span::seconds(2));
    until("the second attempt", || async { attempts() == 2 }).await;
    // It asked for 20 s: the job waits at least that long.
    until("the retry is scheduled", || async {
        app.count_rows("push_jobs WHERE attempts = 2 AND due_at > now() + interval '15 seconds'")
            .await
            == 1
    })
    .await;
    app.clock.advance(Span::seconds(21));
    until("the third attempt", || async { attempts() == 3 }).await;
    settled(&app).await;
    let delivered = fcm.delivered("transporter-device-1", "new_broadcast");
    assert_eq!(delivered.len(), 1, "delivered once");
    assert_eq!(
        metric(&app, r#"weelo_push_retried_total{type="new_broadcast"}"#).await,
        2.0
    );
    assert_eq!(
        metric(&app, r#"weelo_push_sent_total{type="new_broadcast"}"#).await,
        1.0
    );
}

/// FCM says a token is `UNREGISTERED`: that token is deleted, the user's
/// other token got the push and gets the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unregistered_token_is_deleted_and_the_other_keeps_getting_pushes() {
    let (fcm, app, t1) = pushing(|_| {}).await;
    register_token(&app, &t1.token, "old-phone").await;
    register_token(&app, &t1.token, "new-phone").await;
    fcm.unregister("old-phone");
    let first = app.token("9876543210", "customer").await;
    app.create_order(&first, "key-1", &one_truck()).await;
    fcm.wait_for(|r| r.token == "new-phone" && r.get("type") == "new_broadcast")
        .await;
    settled(&app).await;
    assert_eq!(
        device_tokens(&app).await,
        ["new-phone", "transporter-device-1"],
        "only the unregistered one goes"
    );
    assert_eq!(metric(&app, "weelo_push_tokens_pruned_total").await, 1.0);

    let second = app.token("9876543211", "customer").await;
    app.create_order(&second, "key-2", &one_truck()).await;
    until("the second offer", || async {
        fcm.delivered("new-phone", "new_broadcast").len() == 2
    })
    .await;
    let to_old = fcm
        .received()
        .into_iter()
        .filter(|r| r.token == "old-phone")
        .count();
    assert_eq!(to_old, 1, "the deleted token is not tried again");
}

/// FCM down for longer than a push may wait: the breaker stops calling it
/// after a few failures, the booking goes on untouched, and at the deadline
/// the push is dropped and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fcm_down_past_the_deadline_drops_the_push_and_slows_nothing() {
    let (fcm, app, t1) = pushing(|s| {
        s.push.deadline_secs = 120;
        s.push.breaker_failures = 2;
        s.push.breaker_open_secs = 60;
    })
    .await;
    fcm.set_down(true);
    register_token(&app, &t1.driver_token, "driver-device-1").await;
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app.create_order(&customer, "key-1", &one_truck()).await;
    let order_id = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    until("the first attempt", || async { !fcm.received().is_empty() }).await;
    for _ in 0..4 {
        app.clock.advance(Span::seconds(3));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The booking itself does not wait on FCM.
    let made = take_one(&app, &t1, &order_id).await;
    assert_eq!(made["assignmentIds"].as_array().map(Vec::len), Some(1));
    until("the breaker opened after two failures", || async {
        metric(&app, r#"weelo_push_retried_total{type="new_broadcast"}"#).await >= 3.0
    })
    .await;
    assert_eq!(fcm.received().len(), 2, "no call while the breaker is open");

    app.clock.advance(Span::seconds(121));
    settled(&app).await;
    assert_eq!(
        metric(&app, r#"weelo_push_dropped_total{type="new_broadcast"}"#).await,
        1.0
    );
    assert_eq!(
        metric(&app, r#"weelo_push_dropped_total{type="trip_assigned"}"#).await,
        1.0
    );
    assert_eq!(metric(&app, "weelo_push_sent_total").await, 0.0);
}

/// An instance that committed the event and stopped before sending its push
/// leaves the job in PostgreSQL; another instance sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_committed_by_a_stopped_instance_is_sent_by_another() {
    let (fcm, app, _) = pushing(|s| s.push.workers = false).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app.create_order(&customer, "key-1", &one_truck()).await;
    assert_eq!(
        app.count_rows("push_jobs").await,
        1,
        "written with the offer"
    );
    app.handle.stop(false).await;
    assert!(fcm.received().is_empty());

    let mut settings = test_settings(&app.db, &app.redis);
    fcm.configure(&mut settings);
    let _other = Sibling::start(settings).await;
    let pushed = fcm
        .wait_for(|r| r.token == "transporter-device-1" && r.get("type") == "new_broadcast")
        .await;
    assert_eq!(
        pushed.get("orderId"),
        created["data"]["order"]["id"].as_str().unwrap()
    );
    settled(&app).await;
    let _ = app.clock.now();
}
