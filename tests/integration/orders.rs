//! The order lifecycle: create, idempotency, one searching order, status,
//! cancel, expiry by sweeper and cleanup job, history.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use chrono::Duration;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, order_body, spawn_app, spawn_with, test_settings};

async fn customer(app: &TestApp) -> String {
    app.token("9876543210", "customer").await
}

#[derive(QueryableByName)]
struct Topic {
    #[diesel(sql_type = Text)]
    topic: String,
}

#[derive(QueryableByName)]
struct Event {
    #[diesel(sql_type = Text)]
    topic: String,
    #[diesel(sql_type = diesel::sql_types::Array<Text>)]
    recipients: Vec<String>,
}

/// The order's outbox events, by sequence: topic and rooms.
pub(crate) async fn outbox_of(app: &TestApp, order_id: &str) -> Vec<(String, Vec<String>)> {
    let mut conn = app.db.connect().await.unwrap();
    let rows: Vec<Event> = diesel::sql_query(
        "SELECT topic, recipients FROM outbox WHERE order_id = $1::uuid ORDER BY id",
    )
    .bind::<Text, _>(order_id)
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| (r.topic, r.recipients)).collect()
}

async fn topics_of(app: &TestApp, order_id: &str) -> Vec<String> {
    let mut conn = app.db.connect().await.unwrap();
    let rows: Vec<Topic> = diesel::sql_query(format!(
        "SELECT topic FROM outbox WHERE order_id = '{order_id}' ORDER BY id"
    ))
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.topic).collect()
}

#[tokio::test]
async fn a_created_order_reports_its_trucks_and_its_status() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let (status, body) = app.create_order(&token, "key-1", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let data = &body["data"];
    let id = data["order"]["id"].as_str().unwrap();
    assert_eq!(data["order"]["status"], "active");
    assert_eq!(data["order"]["totalTrucks"], 3);
    assert_eq!(data["order"]["totalAmount"], 72_000);
    assert_eq!(data["order"]["expiresIn"], 60);
    assert_eq!(data["timeoutSeconds"], 60);
    assert_eq!(data["truckRequests"].as_array().unwrap().len(), 3);
    assert_eq!(data["truckRequests"][2]["requestNumber"], 3);
    assert_eq!(data["truckRequests"][0]["vehicleKey"], "open_17_ft");
    assert_eq!(data["broadcastSummary"]["totalRequests"], 3);
    assert_eq!(data["broadcastSummary"]["groupedBy"][0]["count"], 2);
    // The first radius step ran (nobody is online) and the steps go on.
    assert_eq!(data["dispatchState"], "broadcasting");

    app.clock.advance(Duration::milliseconds(10_500));
    let (status, body) = app
        .get_as(&format!("bookings/orders/{id}/status"), &token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["isActive"], true);
    assert_eq!(
        body["data"]["remainingSeconds"], 50,
        "49.5 s left rounds up"
    );
    let (_, body) = app.get_as("orders/check-active", &token).await;
    assert_eq!(body["data"]["hasActiveOrder"], true);
    assert_eq!(body["data"]["activeOrder"]["orderId"], id);
    let (_, body) = app.get_as(&format!("bookings/orders/{id}"), &token).await;
    assert_eq!(
        body["data"]["order"]["pickup"]["coordinates"]["latitude"],
        19.076
    );
    assert_eq!(body["data"]["order"]["pickup"]["latitude"], 19.076);
    assert_eq!(body["data"]["summary"]["trucksSearching"], 3);
    let (_, body) = app.get_as("bookings?page=1&limit=50", &token).await;
    assert_eq!(body["data"]["total"], 1);
    assert_eq!(body["data"]["bookings"][0]["trucksNeeded"], 3);
    assert_eq!(body["data"]["bookings"][0]["pricePerTruck"], 24000);
    assert_eq!(topics_of(&app, id).await, ["order_created"]);
}

#[tokio::test]
async fn the_same_key_replays_the_same_answer_and_another_body_is_409() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let (first_status, first) = app.create_order(&token, "key-1", &order_body()).await;
    let (second_status, second) = app.create_order(&token, "key-1", &order_body()).await;
    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(second_status, StatusCode::CREATED);
    assert_eq!(first, second);
    let mut other = order_body();
    other["distanceKm"] = json!(151);
    let (status, body) = app.create_order(&token, "key-1", &other).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "IDEMPOTENCY_CONFLICT");
    assert_eq!(app.count_rows("orders").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_with_different_keys_make_exactly_one_order() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let body = order_body();
    let attempts = (0..20).map(|i| {
        let (app, token, body) = (&app, &token, &body);
        async move { app.create_order(token, &format!("race-{i}"), body).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let created: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(created.len(), 1, "{results:?}");
    let id = &created[0]["data"]["order"]["id"];
    for (status, body) in &results {
        match *status {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => {
                assert_error(body, "ACTIVE_ORDER_EXISTS");
                assert_eq!(&body["error"]["details"]["activeOrderId"], id);
            }
            StatusCode::TOO_MANY_REQUESTS => assert_error(body, "RATE_LIMIT_EXCEEDED"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(app.count_rows("orders").await, 1);
    assert_eq!(app.count_rows("truck_requests").await, 3);
}

#[tokio::test]
async fn cancel_then_create_at_once_succeeds_and_a_second_cancel_answers_the_state() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let path = format!("bookings/orders/{id}/cancel");
    let cancel = |reason: &'static str| {
        app.call(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({ "reason": reason })),
        )
    };
    let (status, body) = cancel("Change of plans").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "cancelled");
    assert_eq!(body["data"]["trucksCancelled"], 3);
    let (status, body) = app.create_order(&token, "key-2", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = cancel("retry_after_timeout").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["alreadyFinal"], true);
    assert_eq!(body["data"]["status"], "cancelled");
    assert_eq!(
        topics_of(&app, &id).await,
        ["order_created", "order_cancelled"]
    );
}

#[tokio::test]
async fn an_order_expires_when_its_window_ends_and_no_longer_blocks_a_new_one() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(59));
    assert!(app.expiry.sweep_once().await.unwrap().is_empty(), "not yet");
    app.clock.advance(Duration::seconds(1));
    let expired = app.expiry.sweep_once().await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].reason_code, "NO_ONLINE_TRANSPORTERS");

    let (_, body) = app.get_as(&format!("orders/{id}/status"), &token).await;
    assert_eq!(body["data"]["status"], "expired");
    assert_eq!(body["data"]["isActive"], false);
    assert_eq!(body["data"]["remainingSeconds"], 0);
    assert_eq!(body["data"]["reasonCode"], "NO_ONLINE_TRANSPORTERS");
    assert_eq!(
        topics_of(&app, &id).await,
        ["order_created", "order_expired"]
    );
    let (_, body) = app.get_as("orders/check-active", &token).await;
    assert_eq!(body["data"]["hasActiveOrder"], false);
    let (status, _) = app.create_order(&token, "key-2", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_create_after_the_window_expires_the_stale_order_itself() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(61));
    let (status, body) = app.create_order(&token, "key-2", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        topics_of(&app, &id).await,
        ["order_created", "order_expired"]
    );
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Orders written straight into the table with a past deadline, as if the
/// instance that armed their timers had died.
async fn insert_orphans(app: &TestApp, customers: usize) {
    let mut conn = app.db.connect().await.unwrap();
    for n in 0..customers {
        diesel::sql_query(format!(
            "WITH c AS (INSERT INTO users (phone, role) VALUES ('70000000{n:02}', 'customer') RETURNING id) \
             INSERT INTO orders (customer_id, pickup_latitude, pickup_longitude, pickup_address, \
                 drop_latitude, drop_longitude, drop_address, distance_km, total_trucks, total_amount, \
                 status, expires_at, created_at, updated_at) \
             SELECT id, 19.0, 72.8, 'a', 18.5, 73.8, 'b', 150, 1, 9000, 'active', \
                 now() - interval '5 minutes', now() - interval '6 minutes', now() - interval '6 minutes' FROM c"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.db.connect().await.unwrap();
    let row: Count = diesel::sql_query(sql).get_result(&mut conn).await.unwrap();
    row.count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_whose_timers_were_lost_are_expired_once_by_racing_sweepers() {
    let app = spawn_app().await;
    insert_orphans(&app, 30).await;
    let (a, b) = tokio::join!(app.expiry.sweep_once(), app.expiry.sweep_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.len() + b.len(),
        30,
        "every orphan is expired by exactly one sweep"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS count FROM orders WHERE status = 'expired'"
        )
        .await,
        30
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS count FROM outbox WHERE topic = 'order_expired'"
        )
        .await,
        30
    );
    assert!(app.expiry.sweep_once().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cleanup_job_expires_orphans_under_its_lock_and_only_once() {
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::new().unwrap();
    let settings = test_settings(&db, &redis);
    let cache = weelo_cache::Cache::connect(&settings.redis).unwrap();
    let app = spawn_with(settings, db, redis).await;
    insert_orphans(&app, 5).await;

    assert!(
        cache
            .try_lock("cleanup", "another-instance", 60_000)
            .await
            .unwrap()
    );
    let blocked = app.expiry.cleanup_once().await.unwrap();
    assert!(!blocked.ran, "another instance holds the lock");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS count FROM outbox WHERE topic = 'order_expired'"
        )
        .await,
        0
    );
    assert!(cache.unlock("cleanup", "another-instance").await.unwrap());

    let (a, b) = tokio::join!(app.expiry.cleanup_once(), app.expiry.cleanup_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.expired + b.expired, 5, "{a:?} {b:?}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS count FROM outbox WHERE topic = 'order_expired'"
        )
        .await,
        5
    );
    let again = app.expiry.cleanup_once().await.unwrap();
    assert!(again.ran, "the lock was released");
    assert_eq!(again.expired, 0);
}

#[tokio::test]
async fn another_customers_order_is_404() {
    let app = spawn_app().await;
    let owner = customer(&app).await;
    let other = app.token("9876543211", "customer").await;
    let (_, body) = app.create_order(&owner, "key-1", &order_body()).await;
    let id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    for path in [
        format!("bookings/orders/{id}"),
        format!("bookings/orders/{id}/status"),
        format!("bookings/{id}"),
    ] {
        let (status, body) = app.get_as(&path, &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&body, "ORDER_NOT_FOUND");
    }
    let (status, _) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{id}/cancel"),
            Some(&other),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = app
        .get_as(&format!("bookings/orders/{id}/status"), &owner)
        .await;
    assert_eq!(
        body["data"]["status"], "active",
        "the owner's order is untouched"
    );
}

#[tokio::test]
async fn bad_order_input_is_400_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = order_body();
        edit(&mut body);
        body
    };
    let cases = [
        (
            with(&|b| b["pickup"]["latitude"] = json!(51.5)),
            "pickup.latitude",
        ),
        (
            with(&|b| b["drop"]["longitude"] = json!("east")),
            "drop.longitude",
        ),
        (with(&|b| b["drop"] = b["pickup"].clone()), "drop"),
        (with(&|b| b["distanceKm"] = json!(12.5)), "distanceKm"),
        (
            with(&|b| b["vehicleRequirements"] = json!([])),
            "vehicleRequirements",
        ),
        (
            with(&|b| b["vehicleRequirements"][0]["quantity"] = json!(0)),
            "vehicleRequirements[0].quantity",
        ),
        (
            with(&|b| b["vehicleRequirements"][0]["quantity"] = json!(50)),
            "vehicleRequirements",
        ),
        (
            with(&|b| b["vehicleRequirements"][1]["pricePerTruck"] = json!(-1)),
            "vehicleRequirements[1].pricePerTruck",
        ),
        (
            with(&|b| b["vehicleRequirements"][0]["vehicleType"] = json!("rocket")),
            "vehicleRequirements[0].vehicleType",
        ),
        (
            with(&|b| b["pickup"]["address"] = json!("")),
            "pickup.address",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("drop");
            }),
            "drop",
        ),
    ];
    for (index, (body, field)) in cases.iter().enumerate() {
        let (status, answer) = app
            .create_order(&token, &format!("bad-{index}"), body)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {answer}");
        assert_error(&answer, "VALIDATION_ERROR");
        assert_eq!(answer["error"]["details"]["field"], *field, "{answer}");
    }
    let response = app
        .client
        .post(format!("{}/api/v1/bookings/orders", app.address))
        .bearer_auth(&token)
        .json(&order_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_error(
        &response.json::<Value>().await.unwrap(),
        "MISSING_IDEMPOTENCY_KEY",
    );
    assert_eq!(app.count_rows("orders").await, 0);
    assert_eq!(app.count_rows("idempotency_keys").await, 0);
    assert_eq!(app.count_rows("outbox").await, 0);
}

#[tokio::test]
async fn the_sixth_create_in_a_minute_is_429_and_replays_do_not_count() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    for n in 0..5 {
        let (status, body) = app
            .create_order(&token, &format!("k{n}"), &order_body())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, _) = app
            .create_order(&token, &format!("k{n}"), &order_body())
            .await;
        assert_eq!(status, StatusCode::CREATED, "a replay");
        let id = body["data"]["order"]["id"].as_str().unwrap();
        let (status, _) = app
            .call(
                Method::POST,
                &format!("orders/{id}/cancel"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        app.clock.advance(Duration::seconds(1));
    }
    let (status, body) = app.create_order(&token, "k5", &order_body()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "RATE_LIMIT_EXCEEDED");
    assert_eq!(body["error"]["retryAfterMs"], 55_000);
    app.clock.advance(Duration::seconds(55));
    let (status, _) = app.create_order(&token, "k5", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_transporter_cannot_create_orders() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    let (status, body) = app.create_order(&token, "key-1", &order_body()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "FORBIDDEN");
}

#[tokio::test]
async fn with_redis_stopped_create_status_and_cancel_still_work() {
    let mut redis_server = weelo_test_support::RedisServer::start().unwrap();
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::on(redis_server.url());
    let settings = test_settings(&db, &redis);
    let app = spawn_with(settings, db, redis).await;
    let token = customer(&app).await;
    redis_server.stop();
    let (status, body) = app.create_order(&token, "key-1", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .get_as(&format!("bookings/orders/{id}/status"), &token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["isActive"], true);
    let (status, body) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{id}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "cancelled");
    app.clock.advance(Duration::seconds(61));
    assert!(
        app.expiry.cleanup_once().await.unwrap().ran,
        "cleanup falls back to the advisory lock"
    );
}

async fn sql(app: &TestApp, statement: &str) {
    let mut conn = app.db.connect().await.unwrap();
    diesel::sql_query(statement)
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn status_and_check_active_come_from_the_mirror_and_never_go_back_in_time() {
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::new().unwrap();
    let settings = test_settings(&db, &redis);
    let cache = weelo_cache::Cache::connect(&settings.redis).unwrap();
    let app = spawn_with(settings, db, redis).await;
    let token = customer(&app).await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let id = body["data"]["order"]["id"].as_str().unwrap().to_owned();

    // A change behind the server's back is not seen while the snapshot lives:
    // the answer came from Redis.
    sql(
        &app,
        &format!("UPDATE orders SET dispatch_state = 'finished' WHERE id = '{id}'"),
    )
    .await;
    let (_, body) = app
        .get_as(&format!("bookings/orders/{id}/status"), &token)
        .await;
    assert_eq!(body["data"]["dispatchState"], "broadcasting");
    let (_, body) = app.get_as("orders/check-active", &token).await;
    assert_eq!(body["data"]["activeOrder"]["orderId"], id.as_str());

    // An older version never replaces a newer one.
    let key = format!("order-status:{id}");
    assert!(!cache.put_snapshot(&key, 0, "{}", 5_000).await.unwrap());

    // Without the snapshot, PostgreSQL answers (and refills the mirror).
    cache.drop_snapshot(&key).await.unwrap();
    let (_, body) = app
        .get_as(&format!("bookings/orders/{id}/status"), &token)
        .await;
    assert_eq!(body["data"]["dispatchState"], "finished");

    // A cancel is visible at once: the newer snapshot was written before the answer.
    let (status, _) = app
        .call(
            Method::POST,
            &format!("orders/{id}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app
        .get_as(&format!("bookings/orders/{id}/status"), &token)
        .await;
    assert_eq!(body["data"]["status"], "cancelled");
    let (_, body) = app.get_as("orders/check-active", &token).await;
    assert_eq!(body["data"]["hasActiveOrder"], false);
}

#[tokio::test]
async fn a_snapshot_past_its_deadline_is_not_trusted() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(61));
    // Expired in PostgreSQL by another path; the snapshot still says active.
    sql(&app, &format!("UPDATE orders SET status = 'expired', reason_code = 'NO_ONLINE_TRANSPORTERS' WHERE id = '{id}'")).await;
    let (_, body) = app
        .get_as(&format!("bookings/orders/{id}/status"), &token)
        .await;
    assert_eq!(body["data"]["status"], "expired");
    assert_eq!(body["data"]["reasonCode"], "NO_ONLINE_TRANSPORTERS");
}

#[derive(QueryableByName)]
struct Payload {
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    payload: Value,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_many_customers_each_get_their_own_order_and_answer() {
    let app = spawn_app().await;
    let tokens = futures_util::future::join_all((0..12).map(|n| {
        let app = &app;
        async move { app.token(&format!("98765432{n:02}"), "customer").await }
    }))
    .await;
    let body = order_body();
    let results = futures_util::future::join_all(tokens.iter().map(|token| {
        let (app, body) = (&app, &body);
        async move { app.create_order(token, "same-key-for-all", body).await }
    }))
    .await;
    let mut ids = std::collections::HashSet::new();
    let mut conn = app.db.connect().await.unwrap();
    for ((status, answer), token) in results.iter().zip(&tokens) {
        assert_eq!(*status, StatusCode::CREATED, "{answer}");
        let id = answer["data"]["order"]["id"].as_str().unwrap();
        assert!(
            ids.insert(id.to_owned()),
            "each customer has an order of their own"
        );
        assert_eq!(answer["data"]["truckRequests"].as_array().unwrap().len(), 3);
        assert_eq!(topics_of(&app, id).await, ["order_created"]);
        let stored: Payload = diesel::sql_query(
            "SELECT payload FROM outbox WHERE topic = 'order_created' AND order_id = $1::uuid",
        )
        .bind::<Text, _>(id)
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            stored.payload, answer["data"],
            "order_created carries the answer"
        );
        let (status, replayed) = app.create_order(token, "same-key-for-all", &body).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            &replayed, answer,
            "the key replays this customer's own answer"
        );
    }
    assert_eq!(app.count_rows("orders").await, 12);
    assert_eq!(app.count_rows("truck_requests").await, 36);
    assert_eq!(app.count_rows("idempotency_keys").await, 12);
    assert_eq!(app.count_rows("dispatch_schedule").await, 12);
}

#[tokio::test]
async fn the_legacy_booking_screen_cancels_with_patch() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "k1", &order_body()).await;
    let id = body["data"]["order"]["id"].as_str().unwrap();
    let (status, cancelled) = app
        .call(
            Method::PATCH,
            &format!("bookings/{id}/cancel"),
            Some(&token),
            Some(json!({ "reason": "changed plans" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["data"]["status"], "cancelled");
    assert_eq!(app.count_rows("orders WHERE status = 'cancelled'").await, 1);
}
