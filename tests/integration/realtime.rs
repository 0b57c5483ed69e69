//! Socket.IO with the reference client (socket.io-client from npm, run by
//! node): handshake with the access token, rooms, and events from the
//! outbox reaching sockets on this and other instances.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::helpers::{order_body, spawn_app, spawn_with, test_settings};

/// A node process running tests/node/client.mjs.
pub(crate) struct Client {
    pub(crate) child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Client {
    pub(crate) fn start(base: &str, token: &str, join: Option<&str>, wait_for: &str) -> Self {
        Self::start_in(base, token, join, wait_for, "websocket")
    }

    fn start_in(base: &str, token: &str, join: Option<&str>, wait_for: &str, mode: &str) -> Self {
        Self::spawn(base, token, join, wait_for, mode, "8000")
    }

    /// A client that starts on long-polling and upgrades to a WebSocket, as
    /// the customer app does.
    pub(crate) fn start_upgrading(
        base: &str,
        token: &str,
        join: Option<&str>,
        wait_for: &str,
    ) -> Self {
        Self::start_in(base, token, join, wait_for, "upgrade")
    }

    /// A WebSocket client that stays up to 30 s for a long scripted flow.
    pub(crate) fn start_long(base: &str, token: &str, join: Option<&str>, wait_for: &str) -> Self {
        Self::spawn(base, token, join, wait_for, "websocket", "30000")
    }

    /// A WebSocket client that sends `events` (`[name, data]` pairs) once
    /// connected, as the driver app sends `update_location`.
    pub(crate) fn start_emitting(base: &str, token: &str, events: &Value, wait_for: &str) -> Self {
        Self::launch(
            base,
            token,
            None,
            wait_for,
            "websocket",
            "30000",
            &[("EMIT", events.to_string())],
        )
    }

    /// [`Client::start_emitting`] without the heartbeat sent at connect
    /// (it writes to the database).
    pub(crate) fn start_emitting_only(base: &str, token: &str, events: &Value) -> Self {
        Self::launch(
            base,
            token,
            None,
            "never",
            "websocket",
            "30000",
            &[
                ("EMIT", events.to_string()),
                ("NO_HEARTBEAT", "1".to_owned()),
            ],
        )
    }

    /// A WebSocket client that resumes after `last_seq` (`auth.lastSeq`).
    pub(crate) fn start_resuming(base: &str, token: &str, last_seq: i64, wait_for: &str) -> Self {
        Self::launch(
            base,
            token,
            None,
            wait_for,
            "websocket",
            "30000",
            &[("LAST_SEQ", last_seq.to_string())],
        )
    }

    fn spawn(
        base: &str,
        token: &str,
        join: Option<&str>,
        wait_for: &str,
        mode: &str,
        timeout_ms: &str,
    ) -> Self {
        Self::launch(base, token, join, wait_for, mode, timeout_ms, &[])
    }

    fn launch(
        base: &str,
        token: &str,
        join: Option<&str>,
        wait_for: &str,
        mode: &str,
        timeout_ms: &str,
        env: &[(&str, String)],
    ) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/client.mjs");
        let mut command = Command::new("node");
        command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        let mut child = command
            .args([
                script,
                base,
                token,
                join.unwrap_or("-"),
                wait_for,
                timeout_ms,
                mode,
            ])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { child, lines }
    }

    /// The next printed line, or `None` when the client has exited.
    pub(crate) async fn next(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .ok()?
            .ok()??;
        serde_json::from_str(&line).ok()
    }

    /// [`Client::event`], failing if an event named `forbidden` comes first.
    pub(crate) async fn event_without(&mut self, name: &str, forbidden: &str) -> Value {
        while let Some(line) = self.next().await {
            assert_ne!(line["event"], forbidden, "{forbidden} reached this socket");
            if line["kind"] == "event" && line["event"] == name {
                return line["data"].clone();
            }
            assert_ne!(line["kind"], "timeout", "waited in vain for {name}");
        }
        panic!("the client exited before {name}");
    }

    /// Reads lines until an event named `name`; returns its data.
    pub(crate) async fn event(&mut self, name: &str) -> Value {
        while let Some(line) = self.next().await {
            if line["kind"] == "event" && line["event"] == name {
                return line["data"].clone();
            }
            assert_ne!(line["kind"], "timeout", "waited in vain for {name}");
        }
        panic!("the client exited before {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_socket_connects_joins_its_order_and_hears_the_cancel() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();

    let mut client = Client::start(&app.address, &token, Some(&order_id), "order_cancelled");
    let connected = client.event("connected").await;
    assert_eq!(connected["role"], "customer");
    client.event("pong").await;
    let joined = client.event("booking_joined").await;
    assert_eq!(joined["orderId"], order_id.as_str());

    let (status, _) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{order_id}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let cancelled = client.event("order_cancelled").await;
    assert_eq!(cancelled["orderId"], order_id.as_str());
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["eventId"].is_string());
    assert!(cancelled["serverTimeMs"].is_i64());
    assert!(cancelled["_seq"].as_u64().unwrap() >= 1);
    assert_eq!(client.child.wait().await.unwrap().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_gets_connect_error() {
    let app = spawn_app().await;
    let mut client = Client::start(&app.address, "not-a-token", None, "connect_error");
    let line = seen(&mut client, "connect_error").await;
    assert!(line["message"].as_str().unwrap().contains("invalid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_customers_order_cannot_be_joined() {
    let app = spawn_app().await;
    let owner = app.token("9876543210", "customer").await;
    let other = app.token("9876543211", "customer").await;
    let (_, body) = app.create_order(&owner, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut client = Client::start(&app.address, &other, Some(&order_id), "error");
    let refused = client.event("error").await;
    assert_eq!(refused["orderId"], order_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_on_one_instance_reach_a_socket_on_another_once_and_in_order() {
    let app = spawn_app().await;
    let other = app.sibling().await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let first = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut client = Client::start(&other.address, &token, Some(&first), "never");
    client.event("booking_joined").await;

    app.call(
        Method::POST,
        &format!("orders/{first}/cancel"),
        Some(&token),
        None,
    )
    .await;
    let (_, body) = app.create_order(&token, "key-2", &order_body()).await;
    let second = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    app.call(
        Method::POST,
        &format!("orders/{second}/cancel"),
        Some(&token),
        None,
    )
    .await;

    let mut received = Vec::new();
    while received.len() < 3 {
        let line = seen(&mut client, "event").await;
        let name = line["event"].as_str().unwrap().to_owned();
        if name.starts_with("order_") {
            received.push((
                name,
                line["data"]["orderId"].as_str().unwrap().to_owned(),
                line["data"]["_seq"].as_u64().unwrap(),
            ));
        }
    }
    let names: Vec<(&str, &str)> = received
        .iter()
        .map(|(n, o, _)| (n.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("order_cancelled", first.as_str()),
            ("order_created", second.as_str()),
            ("order_cancelled", second.as_str())
        ]
    );
    assert!(
        received.windows(2).all(|w| w[0].2 < w[1].2),
        "per-recipient sequence grows: {received:?}"
    );
    // Nothing is delivered twice.
    let extra = tokio::time::timeout(Duration::from_millis(300), seen(&mut client, "event")).await;
    assert!(
        extra.is_err()
            || !extra.unwrap()["event"]
                .as_str()
                .unwrap()
                .starts_with("order_")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_starting_with_polling_upgrades_and_keeps_receiving() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut client = Client::start_in(
        &app.address,
        &token,
        Some(&order_id),
        "order_cancelled",
        "upgrade",
    );
    assert_eq!(seen(&mut client, "transport").await["name"], "polling");
    client.event("connected").await;
    assert_eq!(
        seen(&mut client, "ack").await["answer"]["ok"],
        true,
        "an event with an ack is answered"
    );
    client.event("booking_joined").await;
    let path = format!("orders/{order_id}/cancel");
    app.call(Method::POST, &path, Some(&token), None).await;
    let cancelled = loop {
        let line = seen(&mut client, "event").await;
        if line["event"] == "order_cancelled" {
            break line;
        }
    };
    assert_eq!(cancelled["data"]["orderId"], order_id.as_str());
    assert_eq!(cancelled["transport"], "websocket", "the client upgraded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_only_client_connects_and_receives() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut client = Client::start_in(
        &app.address,
        &token,
        Some(&order_id),
        "order_cancelled",
        "polling",
    );
    client.event("booking_joined").await;
    app.call(
        Method::POST,
        &format!("orders/{order_id}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(client.event("order_cancelled").await["status"], "cancelled");
}

#[tokio::test]
async fn engine_io_errors_are_400() {
    let app = spawn_app().await;
    for query in [
        "EIO=3&transport=polling",
        "EIO=4&transport=carrier-pigeon",
        "EIO=4&transport=polling&sid=nope",
    ] {
        let response = app
            .client
            .get(format!("{}/socket.io/?{query}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_that_socket_only() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut client = Client::start(&app.address, &token, Some(&order_id), "order_cancelled");
    client.event("booking_joined").await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/flood.mjs");
    let flood = Command::new("node")
        .args([script, &app.address, &token])
        .output()
        .await
        .unwrap();
    assert_eq!(
        flood.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&flood.stdout)
    );

    let path = format!("orders/{order_id}/cancel");
    app.call(Method::POST, &path, Some(&token), None).await;
    assert_eq!(
        client.event("order_cancelled").await["orderId"],
        order_id.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_survives_ping_cycles_and_hears_events_with_redis_down() {
    let mut redis_server = weelo_test_support::RedisServer::start().unwrap();
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::on(redis_server.url());
    let mut settings = test_settings(&db, &redis);
    settings.realtime.ping_interval_ms = 200;
    settings.realtime.ping_timeout_ms = 300;
    let app = spawn_with(settings, db, redis).await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut client = Client::start(&app.address, &token, Some(&order_id), "order_cancelled");
    client.event("booking_joined").await;
    for _ in 0..3 {
        seen(&mut client, "ping").await;
    }
    redis_server.stop();
    let path = format!("orders/{order_id}/cancel");
    let (status, _) = app.call(Method::POST, &path, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        client.event("order_cancelled").await["orderId"],
        order_id.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_while_the_subscription_was_cut_still_arrives() {
    let redis_server = weelo_test_support::RedisServer::start().unwrap();
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::on(redis_server.url());
    let settings = test_settings(&db, &redis);
    let app = spawn_with(settings, db, redis).await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut client = Client::start(&app.address, &token, Some(&order_id), "order_cancelled");
    client.event("booking_joined").await;
    // Redis cuts a subscriber that falls behind; here it is cut on purpose,
    // and the cancel is published while nobody listens.
    let port = redis_server.url().rsplit(':').next().unwrap().to_owned();
    let killed = std::process::Command::new("redis-cli")
        .args(["-p", &port, "CLIENT", "KILL", "TYPE", "pubsub"])
        .output()
        .unwrap();
    assert!(killed.status.success());
    let path = format!("orders/{order_id}/cancel");
    let (status, _) = app.call(Method::POST, &path, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        client.event("order_cancelled").await["orderId"],
        order_id.as_str(),
        "caught up from the outbox once subscribed again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plain_websocket_carries_event_frames_and_refuses_a_bad_token() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/plain.mjs");
    let mut child = Command::new("node")
        .args([script, &app.address, &token, &order_id, "order_cancelled"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen_events = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let frame: Value = serde_json::from_str(&line).unwrap();
        let name = frame["event"].as_str().unwrap().to_owned();
        if name == "booking_joined" {
            let path = format!("orders/{order_id}/cancel");
            app.call(Method::POST, &path, Some(&token), None).await;
        }
        seen_events.push(name.clone());
        if name == "order_cancelled" {
            assert_eq!(frame["data"]["orderId"], order_id.as_str());
            break;
        }
        assert_ne!(name, "timeout", "{seen_events:?}");
    }
    assert_eq!(seen_events.first().map(String::as_str), Some("connected"));
    assert!(seen_events.contains(&"pong".to_owned()), "{seen_events:?}");
    assert_eq!(
        seen_events.last().map(String::as_str),
        Some("order_cancelled")
    );

    let refused = Command::new("node")
        .args([script, &app.address, "bad", "-", "error"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_socket_heartbeat_updates_last_seen_on_the_fleet_list() {
    let app = spawn_app().await;
    let transporter = app.token("9123456780", "transporter").await;
    app.onboard_driver(&transporter, "8012345678", "Suresh")
        .await;
    let (_, body) = app
        .post(
            "driver-auth/send-otp",
            serde_json::json!({ "driverPhone": "8012345678" }),
        )
        .await;
    let otp = body["data"]["otp"].as_str().unwrap().to_owned();
    let (_, body) = app
        .post(
            "driver-auth/verify-otp",
            serde_json::json!({ "driverPhone": "8012345678", "otp": otp }),
        )
        .await;
    let driver = body["data"]["accessToken"].as_str().unwrap().to_owned();
    let (_, list) = app.get_as("driver/list", &transporter).await;
    assert!(list["data"]["drivers"][0]["lastSeenAt"].is_null());

    let mut client = Client::start(&app.address, &driver, None, "ack");
    let connected = client.event("connected").await;
    let rooms = connected["rooms"].as_array().unwrap();
    assert!(
        rooms
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.starts_with("fleet:"))),
        "{rooms:?}"
    );
    assert!(
        !rooms
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.starts_with("transporter:"))),
        "a driver must not hear its transporter's broadcasts: {rooms:?}"
    );
    assert_eq!(
        seen(&mut client, "ack").await["answer"]["ok"],
        true,
        "the heartbeat was acked"
    );
    let (_, list) = app.get_as("driver/list", &transporter).await;
    assert!(
        list["data"]["drivers"][0]["lastSeenAt"].is_string(),
        "{list}"
    );
}

/// Reads lines until one whose `kind` is `kind`.
pub(crate) async fn seen(client: &mut Client, kind: &str) -> Value {
    while let Some(line) = client.next().await {
        if line["kind"] == kind {
            return line;
        }
        assert_ne!(line["kind"], "timeout", "waited in vain for {kind}");
    }
    panic!("the client exited before {kind}");
}

/// A transporter with one open 17 ft truck, online and beating at `at`.
pub(crate) async fn transporter_at(
    app: &crate::helpers::TestApp,
    phone: &str,
    number: &str,
    at: (f64, f64),
) -> String {
    let token = app.token(phone, "transporter").await;
    let truck = serde_json::json!({ "vehicleNumber": number, "vehicleType": "open", "vehicleSubtype": "17 Feet" });
    app.call(Method::PUT, "vehicles/upsert", Some(&token), Some(truck))
        .await;
    let online = serde_json::json!({ "isAvailable": true });
    app.call(
        Method::PUT,
        "transporter/availability",
        Some(&token),
        Some(online),
    )
    .await;
    let beat = serde_json::json!({ "latitude": at.0, "longitude": at.1 });
    let (status, _) = app
        .call(
            Method::POST,
            "transporter/heartbeat",
            Some(&token),
            Some(beat),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    token
}

/// Adds a 17 ft truck numbered `number` to the fleet of `token`.
pub(crate) async fn add_truck(app: &crate::helpers::TestApp, token: &str, number: &str) {
    let truck = serde_json::json!({ "vehicleNumber": number, "vehicleType": "open", "vehicleSubtype": "17 Feet" });
    let (status, body) = app
        .call(Method::PUT, "vehicles/upsert", Some(token), Some(truck))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_order_is_broadcast_to_the_nearby_transporter_with_a_free_truck_only() {
    let app = spawn_app().await;
    let near = transporter_at(&app, "9123456780", "MH12AB1234", (19.0800, 72.8800)).await;
    let far = transporter_at(&app, "9123456781", "MH12AB1235", (18.5204, 73.8567)).await;
    let mut near_socket = Client::start(&app.address, &near, None, "new_broadcast");
    let mut far_socket = Client::start(&app.address, &far, None, "new_broadcast");
    near_socket.event("connected").await;
    far_socket.event("connected").await;

    let customer = app.token("9876543210", "customer").await;
    let (status, body) = app.create_order(&customer, "key-1", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let summary = &body["data"]["broadcastSummary"];
    assert_eq!(summary["totalTransportersNotified"], 1, "{body}");
    assert_eq!(summary["groupedBy"][0]["transportersNotified"], 1);
    assert_eq!(
        summary["groupedBy"][1]["transportersNotified"], 0,
        "nobody has a container"
    );
    assert_eq!(body["data"]["dispatchState"], "broadcasting");
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    // The first step was committed with the order: its events follow
    // `order_created`, and the stored answer carries the step's figures.
    let events = crate::orders::outbox_of(&app, &order_id).await;
    let topics: Vec<&str> = events.iter().map(|(topic, _)| topic.as_str()).collect();
    assert_eq!(
        topics,
        ["order_created", "new_broadcast", "broadcast_state_changed"]
    );
    let customer_rooms = &events[0].1;
    assert_eq!(customer_rooms.len(), 2, "{customer_rooms:?}");
    assert!(customer_rooms.contains(&format!("order:{order_id}")));
    assert_eq!(&events[2].1, customer_rooms);
    assert!(events[1].1[0].starts_with("transporter:"), "{events:?}");
    assert_eq!(app.count_rows("order_notifications").await, 1);
    let (status, replayed) = app.create_order(&customer, "key-1", &order_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{replayed}");
    assert_eq!(
        replayed["data"], body["data"],
        "the same answer, step included"
    );

    let broadcast = near_socket.event("new_broadcast").await;
    assert_eq!(broadcast["orderId"], order_id.as_str());
    assert_eq!(broadcast["trucksYouCanProvide"], 1);
    assert_eq!(broadcast["requestedVehicles"].as_array().unwrap().len(), 2);
    assert!(broadcast["pickupDistanceKm"].as_f64().unwrap() < 1.0);
    // Under a kilometre at a truck's pace: one to three minutes.
    let eta = broadcast["pickupEtaMinutes"].as_i64().unwrap();
    assert!((1..=3).contains(&eta), "{eta}");
    assert!(broadcast.get("customerPhone").is_none());

    // The feed lists it for the near transporter only, until declined.
    let (_, feed) = app.get_as("broadcasts/active", &near).await;
    assert_eq!(feed["count"], 1, "{feed}");
    assert_eq!(feed["broadcasts"][0]["orderId"], order_id.as_str());
    assert_eq!(feed["broadcasts"][0]["trucksYouCanProvide"], 1);
    let (_, other_feed) = app.get_as("broadcasts/active", &far).await;
    assert_eq!(other_feed["count"], 0);
    let (status, list) = app.get_as("bookings/requests/active", &near).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed = &list["data"]["orders"][0];
    assert_eq!(listed["order"]["id"], order_id.as_str());
    assert_eq!(
        listed["order"]["pickup"]["latitude"], 19.076,
        "flat coordinates"
    );
    assert_eq!(
        listed["order"]["customerPhone"], "98******10",
        "masked for transporters"
    );
    assert_eq!(listed["requests"].as_array().unwrap().len(), 3);
    let decline = format!("broadcasts/{order_id}/decline");
    let (status, _) = app.call(Method::POST, &decline, Some(&far), None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "it was never sent to the far transporter"
    );
    let (status, answer) = app.call(Method::POST, &decline, Some(&near), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, feed) = app.get_as("broadcasts/active", &near).await;
    assert_eq!(feed["count"], 0);

    // The replay pages the transporter's dispatch events by sequence.
    let (status, replay) = app
        .get_as("transporter/dispatch/replay?cursor=0&limit=50", &near)
        .await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    let events = replay["data"]["events"].as_array().unwrap();
    assert_eq!(events[0]["eventType"], "broadcast_created");
    assert_eq!(events[0]["orderId"], order_id.as_str());
    let cursor = replay["data"]["cursor"].as_i64().unwrap();
    let (_, later) = app
        .get_as(
            &format!("transporter/dispatch/replay?cursor={cursor}"),
            &near,
        )
        .await;
    assert_eq!(later["data"]["events"].as_array().unwrap().len(), 0);
    let (_, one) = app.get_as(&format!("broadcasts/{order_id}"), &far).await;
    assert_eq!(one["error"]["code"], "BROADCAST_NOT_FOUND");

    // The same key replays the dispatched answer.
    let (_, replay) = app.create_order(&customer, "key-1", &order_body()).await;
    assert_eq!(replay["data"]["broadcastSummary"], *summary);
    // Expired with someone told: nobody accepted.
    app.clock.advance(chrono::Duration::seconds(61));
    let expired = app.expiry.sweep_once().await.unwrap();
    assert_eq!(expired[0].reason_code, "NO_TRANSPORTER_ACCEPTANCE");
    // The snapshot still answers, with the terminal state, for the one told.
    let (status, snap) = app
        .get_as(
            &format!("bookings/orders/{order_id}/broadcast-snapshot"),
            &near,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{snap}");
    assert_eq!(snap["data"]["state"], "expired");
    assert_eq!(snap["data"]["requests"].as_array().unwrap().len(), 3);
    let (status, _) = app
        .get_as(
            &format!("bookings/orders/{order_id}/broadcast-snapshot"),
            &far,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The expiry reaches the transporter who was told, in its replay too.
    let (_, replay) = app
        .get_as(
            &format!("transporter/dispatch/replay?cursor={cursor}"),
            &near,
        )
        .await;
    assert_eq!(
        replay["data"]["events"][0]["eventType"], "order_expired",
        "{replay}"
    );
    drop(far_socket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_of_two_transporters_pressing_at_once_holds_the_trucks() {
    let app = spawn_app().await;
    let a = transporter_at(&app, "9123456780", "MH12AB1234", (19.0800, 72.8800)).await;
    let b = transporter_at(&app, "9123456781", "MH12AB1235", (19.0700, 72.8700)).await;
    let far = transporter_at(&app, "9123456782", "MH12AB1236", (18.5204, 73.8567)).await;
    // Two trucks each: a hold of two is within either fleet.
    add_truck(&app, &a, "MH12AB2234").await;
    add_truck(&app, &b, "MH12AB2235").await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &order_body()).await;
    assert_eq!(
        body["data"]["broadcastSummary"]["totalTransportersNotified"], 2,
        "{body}"
    );
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let hold = serde_json::json!({ "orderId": order_id, "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2 });

    let (first, second) = tokio::join!(
        app.call(
            Method::POST,
            "truck-hold/hold",
            Some(&a),
            Some(hold.clone())
        ),
        app.call(
            Method::POST,
            "truck-hold/hold",
            Some(&b),
            Some(hold.clone())
        ),
    );
    let outcomes = [first, second];
    let won: Vec<_> = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .collect();
    let lost: Vec<_> = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .collect();
    assert_eq!((won.len(), lost.len()), (1, 1), "{outcomes:?}");
    assert_eq!(won[0].1["data"]["heldQuantity"], 2);
    assert_eq!(lost[0].1["error"]["code"], "NOT_ENOUGH_AVAILABLE");
    let winner = if outcomes[0].0 == StatusCode::OK {
        &a
    } else {
        &b
    };

    let (status, again) = app
        .call(
            Method::POST,
            "truck-hold/hold",
            Some(winner),
            Some(hold.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["error"]["code"], "ALREADY_HOLDING");
    assert_eq!(
        again["error"]["details"]["holdId"],
        won[0].1["data"]["holdId"]
    );
    let (status, refused) = app
        .call(
            Method::POST,
            "truck-hold/hold",
            Some(&far),
            Some(hold.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused["error"]["code"], "NOT_NOTIFIED");
    let (_, mine) = app.get_as("truck-hold/my-active", winner).await;
    assert_eq!(mine["data"]["holdId"], won[0].1["data"]["holdId"]);
    // The app reconciles one order line: its hold, or `data: null`.
    let line = format!(
        "truck-hold/my-active?orderId={order_id}&vehicleType=open&vehicleSubtype=17%20Feet"
    );
    let (_, this_line) = app.get_as(&line, winner).await;
    assert_eq!(this_line["data"]["holdId"], won[0].1["data"]["holdId"]);
    assert_eq!(this_line["data"]["orderId"], order_id.as_str());
    let other = format!(
        "truck-hold/my-active?orderId={order_id}&vehicleType=container&vehicleSubtype=20%20Feet"
    );
    let (status, none) = app.get_as(&other, winner).await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none["data"], Value::Null, "no hold of that line: {none}");
    let (status, half) = app
        .get_as(&format!("truck-hold/my-active?orderId={order_id}"), winner)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{half}");
    assert_eq!(
        app.count_rows("truck_requests WHERE status = 'held'").await,
        2
    );

    let (_, detail) = app
        .get_as(&format!("bookings/orders/{order_id}"), &customer)
        .await;
    assert_eq!(detail["data"]["summary"]["trucksHeld"], 2);

    // Released trucks are open again, and the other transporter can hold them.
    let loser = if outcomes[0].0 == StatusCode::OK {
        &b
    } else {
        &a
    };
    let release = serde_json::json!({ "holdId": won[0].1["data"]["holdId"] });
    let (status, _) = app
        .call(
            Method::POST,
            "truck-hold/release",
            Some(loser),
            Some(release.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only the holder may release");
    let (status, _) = app
        .call(
            Method::POST,
            "truck-hold/release",
            Some(winner),
            Some(release.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, gone) = app
        .call(
            Method::POST,
            "truck-hold/release",
            Some(winner),
            Some(release),
        )
        .await;
    assert_eq!(
        (status, gone["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("HOLD_NOT_FOUND"))
    );
    let (status, _) = app
        .call(
            Method::POST,
            "truck-hold/hold",
            Some(loser),
            Some(hold.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(61));
    let container = serde_json::json!({ "orderId": order_id, "vehicleType": "container", "vehicleSubtype": "20 Feet", "quantity": 1 });
    let (status, late) = app
        .call(
            Method::POST,
            "truck-hold/hold",
            Some(winner),
            Some(container),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(late["error"]["code"], "BROADCAST_EXPIRED");
    // The order's expiry ends the holds with it.
    app.expiry.sweep_once().await.unwrap();
    assert_eq!(app.count_rows("holds WHERE status = 'active'").await, 0);
    assert_eq!(app.count_rows("holds WHERE status = 'expired'").await, 1);
    let (_, mine) = app.get_as("truck-hold/my-active", loser).await;
    assert_eq!(mine["data"], Value::Null, "no hold is data: null");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_hold_expires_and_its_trucks_open_again() {
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::new().unwrap();
    let mut settings = test_settings(&db, &redis);
    // A window longer than a hold, as a reopened truck's extended window is.
    settings.orders.search_window_secs = 300;
    let app = spawn_with(settings, db, redis).await;
    let transporter = transporter_at(&app, "9123456780", "MH12AB1234", (19.0800, 72.8800)).await;
    add_truck(&app, &transporter, "MH12AB2234").await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let hold = serde_json::json!({ "orderId": order_id, "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2 });
    let (status, held) = app
        .call(
            Method::POST,
            "truck-hold/hold",
            Some(&transporter),
            Some(hold.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");

    app.clock.advance(chrono::Duration::seconds(179));
    app.expiry.sweep_once().await.unwrap();
    assert_eq!(
        app.count_rows("holds WHERE status = 'active'").await,
        1,
        "not yet"
    );
    app.clock.advance(chrono::Duration::seconds(1));
    app.expiry.sweep_once().await.unwrap();
    assert_eq!(app.count_rows("holds WHERE status = 'expired'").await, 1);
    assert_eq!(
        app.count_rows("truck_requests WHERE status = 'held'").await,
        0
    );
    let types = app.replayed_event_types(&transporter).await;
    assert!(types.iter().any(|t| t == "hold_expired"), "{types:?}");
    // The reopened trucks are due for dispatch again, and the sweeper runs it.
    assert_eq!(app.count_rows("dispatch_schedule").await, 1);
    assert_eq!(app.jobs.sweep_once().await.unwrap().steps, 1);
    assert_eq!(app.count_rows("dispatch_schedule").await, 0, "no step left");
    let (status, _) = app
        .call(
            Method::POST,
            "truck-hold/hold",
            Some(&transporter),
            Some(hold),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the trucks are open again");
}
