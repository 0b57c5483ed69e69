//! Realtime limits: Engine.IO sessions per address and in total, sockets per
//! user, and a per-socket event rate.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_tuned, status_and_json};
use crate::realtime::{Client, seen};

async fn handshake(app: &TestApp) -> (StatusCode, String) {
    let response = app
        .client
        .get(format!(
            "{}/socket.io/?EIO=4&transport=polling",
            app.address
        ))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

async fn refused(app: &TestApp, kind: &str) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let prefix = format!("weelo_realtime_refused_total{{kind=\"{kind}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .map_or(0, |count| count.parse().unwrap())
}

#[tokio::test]
async fn handshakes_past_the_per_address_cap_get_engine_io_forbidden() {
    let app = spawn_tuned(|settings| settings.realtime.max_sessions_per_ip = 3).await;
    for _ in 0..3 {
        let (status, body) = handshake(&app).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.starts_with("0{"), "{body}");
    }

    let (status, body) = handshake(&app).await;

    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, json!({ "code": 4, "message": "Forbidden" }));
    let plain = app
        .client
        .get(format!("{}/ws?token=x", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::FORBIDDEN, "/ws counts too");
    assert_eq!(refused(&app, "sessions").await, 2);
}

#[tokio::test]
async fn handshakes_past_the_instance_cap_are_refused_whatever_the_address() {
    let app = spawn_tuned(|settings| {
        settings.realtime.max_sessions = 2;
        settings.server.trusted_proxies = vec!["127.0.0.1".to_owned()];
    })
    .await;
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let response = app
            .client
            .get(format!(
                "{}/socket.io/?EIO=4&transport=polling",
                app.address
            ))
            .header("X-Forwarded-For", client)
            .send()
            .await
            .unwrap();
        let expected = if client.ends_with('3') {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        assert_eq!(response.status(), expected, "{client}");
    }
    let (status, _) = status_and_json(app.get("/api/v1/health").await).await;
    assert_eq!(status, StatusCode::OK, "HTTP is not affected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_newest_socket_closes_its_oldest_past_the_cap() {
    let app = spawn_tuned(|settings| settings.realtime.max_sockets_per_user = 2).await;
    let token = app.token("9876500601", "customer").await;
    let mut oldest = Client::start_long(&app.address, &token, None, "never");
    oldest.event("connected").await;
    let mut middle = Client::start_long(&app.address, &token, None, "never");
    middle.event("connected").await;

    let mut newest = Client::start_long(&app.address, &token, None, "never");
    newest.event("connected").await;

    let line = seen(&mut oldest, "disconnect").await;
    assert_eq!(line["reason"], "io server disconnect", "{line}");
    assert_eq!(refused(&app, "sockets_replaced").await, 1);
    // The two newest still answer.
    for client in [&mut middle, &mut newest] {
        client.child.kill().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_flooding_events_has_them_dropped_then_is_closed() {
    let app = spawn_tuned(|settings| settings.realtime.events_per_second = 5).await;
    let token = app.token("9876500602", "customer").await;
    let pings: Vec<Value> = (0..100).map(|n| json!(["ping", { "n": n }])).collect();
    let mut client = Client::start_emitting(&app.address, &token, &json!(pings), "never");
    client.event("connected").await;

    let mut pongs = 0;
    let reason = loop {
        let line = client.next().await.expect("the client kept running");
        match line["kind"].as_str() {
            Some("event") if line["event"] == "pong" => pongs += 1,
            Some("disconnect") => break line["reason"].clone(),
            Some("timeout") => panic!("the flooding socket was never closed"),
            _ => {}
        }
    };

    assert_eq!(reason, "io server disconnect");
    // The burst (twice the rate) and what trickled in meanwhile, no more.
    assert!((9..=14).contains(&pongs), "{pongs} pongs");
    assert!(refused(&app, "events_dropped").await >= 10);
    assert_eq!(refused(&app, "sockets_flooding").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_client_events_are_answered_with_the_database_hung() {
    use secrecy::ExposeSecret;
    use weelo_test_support::{TestDb, TestRedis};

    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let url = db.secret_url().expose_secret().to_owned();
    let (prefix, rest) = url.split_once('@').unwrap();
    let (server, name) = rest.split_once('/').unwrap();
    let proxy =
        super::proxy::FreezableRedis::start_with_scheme(server.to_owned(), "postgres").await;
    let mut settings = crate::helpers::test_settings(&db, &redis);
    let proxied = proxy.address.trim_start_matches("postgres://");
    settings.database.url = format!("{prefix}@{proxied}/{name}").into();
    // Every checkout asks the database; a hung one blocks for long.
    settings.database.verify_idle_after_ms = 0;
    settings.database.wait_timeout_ms = 30_000;
    settings.database.connect_timeout_ms = 30_000;
    let app = crate::helpers::spawn_with(settings, db, redis).await;
    let token = app.token("9876500603", "customer").await;

    proxy.freeze();
    let made_up: Vec<Value> = (0..3)
        .map(|n| json!([format!("made_up_{n}"), { "n": n }, true]))
        .collect();
    let mut client = Client::start_emitting_only(&app.address, &token, &json!(made_up));
    client.event("connected").await;

    let mut acked = Vec::new();
    while acked.len() < 3 {
        let line = client
            .next()
            .await
            .expect("an ack within the client's wait");
        if line["kind"] == "ack" {
            acked.push(line["event"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(acked, ["made_up_0", "made_up_1", "made_up_2"]);
    proxy.thaw();
}
