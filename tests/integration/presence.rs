//! Presence: availability toggles, heartbeats, nearby search, and sharing
//! between instances through Redis.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use diesel_async::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Sibling, TestApp, assert_error, spawn_app, spawn_with, test_settings};

const PICKUP: (f64, f64) = (19.0760, 72.8777);

/// Logs a transporter in, registers an open 17 ft truck, goes online.
async fn online_transporter(app: &TestApp, phone: &str, number: &str) -> String {
    let token = app.token(phone, "transporter").await;
    let truck =
        json!({ "vehicleNumber": number, "vehicleType": "open", "vehicleSubtype": "17 Feet" });
    let (status, body) = app
        .call(Method::PUT, "vehicles/upsert", Some(&token), Some(truck))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .call(
            Method::PUT,
            "transporter/availability",
            Some(&token),
            Some(json!({ "isAvailable": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    token
}

async fn beat(app: &TestApp, token: &str, lat: f64, lng: f64, on_trip: bool) -> Value {
    let body = json!({ "latitude": lat, "longitude": lng, "vehicleId": null, "isOnTrip": on_trip });
    let (status, answer) = app
        .call(
            Method::POST,
            "transporter/heartbeat",
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["data"].clone()
}

fn nearby_path() -> String {
    format!(
        "availability/nearby?vehicleType=open&vehicleSubtype=Open%2017%20Feet&latitude={}&longitude={}&limit=10&radiusKm=5",
        PICKUP.0, PICKUP.1
    )
}

async fn nearby_count(app: &TestApp, token: &str) -> u64 {
    let (status, body) = app.get_as(&nearby_path(), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["count"].as_u64().unwrap()
}

#[tokio::test]
async fn an_online_transporter_is_found_near_its_beat_and_not_after_the_ttl() {
    let app = spawn_app().await;
    let transporter = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let customer = app.token("9876543210", "customer").await;
    let answer = beat(&app, &transporter, 19.0800, 72.8800, false).await;
    assert_eq!(answer["registered"], true);
    assert_eq!(answer["vehicleKey"], "open_17_ft");

    let (_, body) = app.get_as(&nearby_path(), &customer).await;
    assert_eq!(body["data"]["count"], 1);
    let truck = &body["data"]["vehicles"][0];
    assert_eq!(truck["latitude"], 19.08, "rounded to about 1 km");
    assert_eq!(
        (
            truck["vehicleType"].clone(),
            truck["vehicleSubtype"].clone()
        ),
        (serde_json::json!("open"), serde_json::json!("Open 17 Feet")),
        "each entry names its kind"
    );
    assert!(truck["distanceKm"].as_f64().unwrap() <= 1.0);
    assert_eq!(
        truck.as_object().unwrap().len(),
        5,
        "no id or phone: {truck}"
    );

    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        nearby_count(&app, &customer).await,
        0,
        "stale after the TTL"
    );
    beat(&app, &transporter, 19.0800, 72.8800, false).await;
    assert_eq!(
        nearby_count(&app, &customer).await,
        1,
        "a new beat brings it back"
    );
}

#[tokio::test]
async fn going_offline_removes_at_once_and_a_late_beat_does_not_restore() {
    let app = spawn_app().await;
    let transporter = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let customer = app.token("9876543210", "customer").await;
    beat(&app, &transporter, 19.08, 72.88, false).await;
    app.clock.advance(Duration::seconds(3));
    let (status, body) = app
        .call(
            Method::PUT,
            "transporter/availability",
            Some(&transporter),
            Some(json!({ "isAvailable": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(nearby_count(&app, &customer).await, 0);
    let late = beat(&app, &transporter, 19.08, 72.88, false).await;
    assert_eq!(late["registered"], false);
    assert_eq!(nearby_count(&app, &customer).await, 0);
    let (_, body) = app.get_as("transporter/availability", &transporter).await;
    assert_eq!(body["data"]["isAvailable"], false);
}

#[tokio::test]
async fn toggles_are_idempotent_and_rate_limited_for_two_seconds() {
    let app = spawn_app().await;
    let token = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let put = |available: bool| {
        app.call(
            Method::PUT,
            "transporter/availability",
            Some(&token),
            Some(json!({ "isAvailable": available })),
        )
    };
    let (status, body) = put(true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["idempotent"], true);
    app.clock.advance(Duration::milliseconds(500));
    let (status, body) = put(false).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "TOGGLE_RATE_LIMITED");
    assert_eq!(body["error"]["retryAfterMs"], 1500);
    assert_eq!(body["data"]["cooldownMs"], 1500);
    app.clock.advance(Duration::milliseconds(1500));
    let (status, body) = put(false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["idempotent"], false);
}

#[tokio::test]
async fn nearby_never_shows_a_transporter_whose_only_vehicle_of_the_type_is_busy() {
    let app = spawn_app().await;
    let busy = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let free = online_transporter(&app, "9123456781", "MH12AB1235").await;
    let customer = app.token("9876543210", "customer").await;
    beat(&app, &busy, 19.08, 72.88, false).await;
    beat(&app, &free, 19.07, 72.87, false).await;
    assert_eq!(nearby_count(&app, &customer).await, 2);

    let mut conn = app.db.connect().await.unwrap();
    diesel::sql_query(
        "UPDATE vehicles SET status = 'in_transit' WHERE vehicle_number = 'MH12AB1234'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let answer = beat(&app, &busy, 19.08, 72.88, true).await;
    assert_eq!(answer["registered"], true);
    assert_eq!(answer["vehicleKeys"], json!([]));
    assert_eq!(nearby_count(&app, &customer).await, 1);
}

#[tokio::test]
async fn a_beat_to_one_instance_is_found_by_a_search_on_another_within_a_second() {
    let app = spawn_app().await;
    let other = app.sibling().await;
    let transporter = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let customer = app.token("9876543210", "customer").await;
    beat(&app, &transporter, 19.08, 72.88, false).await;
    assert!(found_within(&other, &customer, 1, StdDuration::from_secs(1)).await);
    let (status, _) = app
        .call(
            Method::DELETE,
            "transporter/heartbeat",
            Some(&transporter),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        found_within(&other, &customer, 0, StdDuration::from_secs(1)).await,
        "offline spreads too"
    );
}

/// Polls `instance`'s nearby search until it reports `count` (propagation
/// between instances is real time, not a rule: it is waited for, bounded).
async fn found_within(instance: &Sibling, token: &str, count: u64, limit: StdDuration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let (_, body) = instance.get_as(&nearby_path(), token).await;
        if body["data"]["count"].as_u64() == Some(count) {
            return true;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn after_redis_restarts_presence_is_whole_again_within_one_beat() {
    let mut redis_server = weelo_test_support::RedisServer::start().unwrap();
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::on(redis_server.url());
    let settings = test_settings(&db, &redis);
    let app = spawn_with(settings.clone(), db, redis).await;
    let transporter = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let customer = app.token("9876543210", "customer").await;
    beat(&app, &transporter, 19.08, 72.88, false).await;

    redis_server.stop();
    assert_eq!(
        nearby_count(&app, &customer).await,
        1,
        "served from memory while redis is down"
    );
    beat(&app, &transporter, 19.08, 72.88, false).await;
    redis_server.resume().unwrap();
    // One beat interval later the transporter has beaten again.
    app.clock.advance(Duration::seconds(5));
    beat(&app, &transporter, 19.08, 72.88, false).await;
    let fresh = Sibling::start(settings).await;
    assert!(
        found_within(&fresh, &customer, 1, StdDuration::from_secs(1)).await,
        "a new instance loads it from redis"
    );
}

#[tokio::test]
async fn bad_coordinates_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let transporter = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let customer = app.token("9876543210", "customer").await;
    for (lat, lng, field) in [
        (51.5, 72.88, "latitude"),
        (19.08, 150.0, "longitude"),
        (-95.0, 72.88, "latitude"),
    ] {
        let body = json!({ "latitude": lat, "longitude": lng });
        let (status, answer) = app
            .call(
                Method::POST,
                "transporter/heartbeat",
                Some(&transporter),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["details"]["field"], field);
    }
    let (status, answer) = app
        .get_as(
            "availability/nearby?vehicleType=open&latitude=NaN&longitude=72.8",
            &customer,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = app
        .get_as(
            "availability/nearby?vehicleType=open&latitude=19&longitude=72.8&radiusKm=500",
            &customer,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        nearby_count(&app, &customer).await,
        0,
        "no beat was recorded"
    );
}

#[tokio::test]
async fn a_driver_toggles_online_and_its_transporter_sees_it() {
    let app = spawn_app().await;
    let transporter = app.token("9123456780", "transporter").await;
    app.onboard_driver(&transporter, "8012345678", "Suresh")
        .await;
    let (_, body) = app
        .post(
            "driver-auth/send-otp",
            json!({ "driverPhone": "8012345678" }),
        )
        .await;
    let otp = body["data"]["otp"].as_str().unwrap().to_owned();
    let (_, body) = app
        .post(
            "driver-auth/verify-otp",
            json!({ "driverPhone": "8012345678", "otp": otp }),
        )
        .await;
    let driver = body["data"]["accessToken"].as_str().unwrap().to_owned();
    let (status, body) = app
        .call(
            Method::PUT,
            "driver/availability",
            Some(&driver),
            Some(json!({ "isOnline": true, "currentLocation": null })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = app.get_as("driver/availability", &driver).await;
    assert_eq!(body["data"]["isOnline"], true);
    let (_, body) = app.get_as("driver/list", &transporter).await;
    assert_eq!(body["data"]["online"], 1);
    assert_eq!(body["data"]["drivers"][0]["isOnline"], true);
}

#[tokio::test]
async fn a_snapshot_with_nobody_online_loads_and_tailing_starts() {
    let redis = weelo_test_support::TestRedis::new().unwrap();
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let settings = test_settings(&db, &redis);
    let cache = weelo_cache::Cache::connect(&settings.redis).unwrap();
    let snapshot = cache.presence_snapshot().await.unwrap();
    assert!(snapshot.online.is_empty());
    assert_eq!(snapshot.last_id, "0-0");
    let (next, events) = cache.read_presence(&snapshot.last_id, 10).await.unwrap();
    assert_eq!((next.as_str(), events.len()), ("0-0", 0));
}

#[tokio::test]
async fn the_customers_map_shows_positions_and_distances_to_the_kilometre() {
    let app = spawn_app().await;
    let transporter = online_transporter(&app, "9123456780", "MH12AB1234").await;
    let customer = app.token("9876543210", "customer").await;
    beat(&app, &transporter, 19.0863, 72.8837, false).await;

    let (_, body) = app.get_as(&nearby_path(), &customer).await;

    let truck = &body["data"]["vehicles"][0];
    assert_eq!(truck["latitude"], 19.09, "{truck}");
    assert_eq!(truck["longitude"], 72.88, "{truck}");
    let distance = truck["distanceKm"].as_f64().unwrap();
    assert_eq!(distance, distance.round(), "whole kilometres: {truck}");
    assert_eq!(distance, 1.0, "{truck}");
}
