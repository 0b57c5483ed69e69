//! Events in commit order, and none lost between instances: a replay never
//! skips an event that committed late; a failed publish is retried; a
//! subscription that died without a word is noticed and caught up.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::time::Duration as StdDuration;

use diesel_async::SimpleAsyncConnection;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use weelo_persistence::outbox::{self, NewEvent};
use weelo_server::Settings;
use weelo_test_support::{TestDb, TestRedis};

use super::proxy::FreezableRedis;
use crate::helpers::{Sibling, TestApp, order_body, spawn_app, spawn_with, test_settings};
use crate::realtime::Client;

fn broadcast_to(room: &str, n: i64) -> NewEvent {
    NewEvent {
        topic: "new_broadcast",
        recipients: vec![room.to_owned()],
        payload: json!({ "n": n }),
        order_id: None,
        push_to: Vec::new(),
    }
}

async fn replay(app: &TestApp, token: &str, cursor: i64) -> Value {
    let (status, body) = app
        .get_as(
            &format!("transporter/dispatch/replay?cursor={cursor}"),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn a_replay_from_an_events_sequence_gets_an_event_that_committed_after_it() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    let (_, profile) = app.get_as("profile", &token).await;
    let room = format!(
        "transporter:{}",
        profile["data"]["user"]["id"].as_str().unwrap()
    );
    let (mut late, mut early) = (
        app.db.connect().await.unwrap(),
        app.db.connect().await.unwrap(),
    );
    let now = chrono::Utc::now();
    late.batch_execute("BEGIN").await.unwrap();
    outbox::append(&mut late, &[broadcast_to(&room, 1)], now)
        .await
        .unwrap();
    outbox::append(&mut early, &[broadcast_to(&room, 2)], now)
        .await
        .unwrap();

    let first = replay(&app, &token, 0).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["events"][0]["payload"]["n"], 2);
    let cursor = first["cursor"].as_i64().unwrap();

    late.batch_execute("COMMIT").await.unwrap();
    let next = replay(&app, &token, cursor).await;

    assert_eq!(next["events"].as_array().unwrap().len(), 1, "{next}");
    assert_eq!(next["events"][0]["payload"]["n"], 1);
    assert!(next["events"][0]["sequence"].as_i64().unwrap() > cursor);
}

/// An app whose Redis is behind a proxy, with `tune` applied, and a sibling
/// instance on the same database and Redis reached directly.
async fn app_behind_proxy_and_a_sibling(
    tune: impl Fn(&mut Settings),
) -> (TestApp, FreezableRedis, Sibling) {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let proxy = FreezableRedis::start(redis.url().trim_start_matches("redis://").to_owned()).await;
    let mut direct = test_settings(&db, &redis);
    tune(&mut direct);
    let mut proxied = direct.clone();
    proxied.redis.url = proxy.address.clone().into();
    let app = spawn_with(proxied, db, redis).await;
    let sibling = Sibling::start(direct).await;
    (app, proxy, sibling)
}

async fn cancel(base: &str, token: &str, order_id: &str) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/bookings/orders/{order_id}/cancel"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_whose_publish_failed_still_reaches_a_socket_on_another_instance() {
    let (app, proxy, sibling) = app_behind_proxy_and_a_sibling(|_| {}).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut there = Client::start_long(&sibling.address, &customer, Some(&order_id), "never");
    there.event("booking_joined").await;

    // The app's Redis hangs: its publish of the cancel fails.
    proxy.freeze();
    let (status, _) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{order_id}/cancel"),
            Some(&customer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let cancelled = there.event("order_cancelled").await;
    assert_eq!(cancelled["orderId"], order_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_that_died_without_a_word_is_noticed_and_caught_up() {
    let (app, proxy, sibling) = app_behind_proxy_and_a_sibling(|settings| {
        settings.realtime.liveness_interval_ms = 100;
        settings.realtime.subscription_silence_ms = 500;
    })
    .await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut here = Client::start_long(&app.address, &customer, Some(&order_id), "never");
    here.event("booking_joined").await;

    // The app's connections to Redis die without a word; the cancel
    // committed on the sibling goes out on pub/sub and never reaches it.
    proxy.black_hole();
    cancel(&sibling.address, &customer, &order_id).await;
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    proxy.thaw();

    let cancelled = here.event("order_cancelled").await;
    assert_eq!(cancelled["orderId"], order_id.as_str());
}
