//! A Redis that stops answering (accepts, then never replies) holds back
//! neither driver timeouts nor the silence watchdog: every Redis call of a
//! sweep has a timeout, and the watchdog asks once per page, not per trip.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::time::Duration as StdDuration;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use weelo_test_support::{TestDb, TestRedis};

use super::proxy::FreezableRedis;
use crate::dispatch::{fleet_at, take_one, two_trucks};
use crate::helpers::{TestApp, spawn_with, test_settings};
use crate::trips::{set_status, two_accepted_trips};

/// The server, its Redis behind a proxy that can freeze.
async fn behind_a_freezable_redis() -> (TestApp, FreezableRedis) {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let upstream = redis.url().trim_start_matches("redis://").to_owned();
    let proxy = FreezableRedis::start(upstream).await;
    let mut settings = test_settings(&db, &redis);
    settings.redis.url = proxy.address.clone().into();
    // The tests run the sweeps themselves: a background pass would ask
    // Redis too and blur the count of what one sweep asks.
    settings.orders.sweep_interval_ms = 0;
    // Enough connections that the background work hanging on the frozen
    // Redis (relay publishes, the presence tail) never leaves the sweep
    // without one to ask with: the count is of what the sweep asks.
    settings.redis.pool_size = 16;
    (spawn_with(settings, db, redis).await, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_hung_the_watchdog_asks_once_per_page_and_still_reports() {
    let (app, proxy) = behind_a_freezable_redis().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (_, _, trips) = two_accepted_trips(&app, &t1, &t2).await;
    for (driver, trip) in [(&t1.driver_token, &trips[0]), (&t2.driver_token, &trips[1])] {
        for word in ["at_pickup", "loading_complete", "in_transit"] {
            assert_eq!(set_status(&app, driver, trip, word).await.0, StatusCode::OK);
        }
    }
    proxy.freeze();
    app.clock.advance(Duration::seconds(121));

    let silent = tokio::time::timeout(StdDuration::from_secs(20), app.jobs.sweep_once())
        .await
        .expect("a sweep with Redis hung must finish")
        .unwrap()
        .silent;

    assert_eq!(silent, 2);
    assert_eq!(proxy.gets_since_freeze("trip-fix:"), 0, "no GET per trip");
    assert_eq!(proxy.sent_since_freeze("MGET"), 1, "one MGET for the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hung_redis_delays_no_driver_timeout() {
    let (app, proxy) = behind_a_freezable_redis().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    take_one(&app, &t1, &order_id).await;

    proxy.freeze();
    app.clock.advance(Duration::seconds(46));
    // Bounded by the Redis timeouts, not by Redis coming back (it never does).
    let report = tokio::time::timeout(StdDuration::from_secs(20), app.jobs.sweep_once())
        .await
        .expect("a sweep with Redis hung must finish")
        .unwrap();

    assert_eq!(report.timed_out, 1, "{report:?}");
    assert_eq!(
        app.count_rows("assignments WHERE status = 'timed_out'")
            .await,
        1
    );
    let (status, _) = app.call(Method::GET, "health", None, None).await;
    assert_eq!(status, StatusCode::OK);
}
