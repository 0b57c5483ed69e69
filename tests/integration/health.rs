//! Liveness, readiness (with Redis and PostgreSQL going away and coming back)
//! and the metrics endpoint.

use reqwest::StatusCode;
use weelo_test_support::{RedisServer, TestDb, TestRedis};

use crate::helpers::{spawn_app, spawn_with, status_and_json, test_settings};

#[tokio::test]
async fn liveness_answers_200_with_a_request_id() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/health").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("x-request-id").is_some());
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (_, body) = status_and_json(response).await;
    assert_eq!(body["success"], true);
}

#[tokio::test]
async fn ready_is_200_when_postgres_and_redis_answer() {
    let app = spawn_app().await;

    let (status, body) = status_and_json(app.get("/api/v1/health/ready").await).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["checks"]["database"], "up");
    assert_eq!(body["data"]["checks"]["redis"], "up");
    assert!(
        app.redis.keys().unwrap().is_empty(),
        "probes write nothing to Redis"
    );
    let mut conn = app.db.connect().await.unwrap();
    let outbox: i64 = diesel_async::RunQueryDsl::get_result(
        diesel::QueryDsl::count(weelo_persistence::schema::outbox::table),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(outbox, 0, "probes write nothing to PostgreSQL");
}

#[tokio::test]
async fn ready_is_503_while_redis_is_down_and_200_again_when_it_returns() {
    let mut redis_server = RedisServer::start().unwrap();
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::on(redis_server.url());
    let app = spawn_with(test_settings(&db, &redis), db, redis).await;
    let (status, _) = status_and_json(app.get("/api/v1/health/ready").await).await;
    assert_eq!(status, StatusCode::OK);

    redis_server.stop();
    let (status, body) = status_and_json(app.get("/api/v1/health/ready").await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE");
    assert_eq!(
        body["error"]["details"]["failed"],
        serde_json::json!(["redis"])
    );
    assert_eq!(body["error"]["details"]["checks"]["database"], "up");

    redis_server.resume().unwrap();
    let (status, body) = status_and_json(app.get("/api/v1/health/ready").await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn ready_is_503_naming_the_database_when_postgres_is_unreachable() {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let mut settings = test_settings(&db, &redis);
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.database.url = format!("postgres://weelo:weelo@127.0.0.1:{closed_port}/weelo").into();
    settings.server.migrate_on_start = false;
    let app = spawn_with(settings, db, redis).await;

    let (status, body) = status_and_json(app.get("/api/v1/health/ready").await).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["error"]["details"]["failed"],
        serde_json::json!(["database"])
    );
    assert_eq!(body["error"]["details"]["checks"]["redis"], "up");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.get("/api/v1/health").await;
    app.get("/api/v1/health").await;
    app.get("/api/v1/no-such-route").await;

    let response = app.get("/metrics").await;

    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"weelo_http_requests_total{method="GET",route="/api/v1/health",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"weelo_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("weelo_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

/// The value of the metric line starting with `series `, if any.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test]
async fn metrics_show_the_pools_the_relays_lag_and_each_loops_last_pass() {
    // The relay and the sweeper pass once at start, then wait an hour.
    let app = crate::helpers::spawn_tuned(|settings| {
        settings.realtime.relay_interval_ms = 3_600_000;
        settings.orders.sweep_interval_ms = 3_600_000;
    })
    .await;
    let mut text = String::new();
    for _ in 0..100 {
        text = app.get("/metrics").await.text().await.unwrap_or_default();
        let passed = |name: &str| {
            metric(
                &text,
                &format!("weelo_loop_last_pass_timestamp_seconds{{loop=\"{name}\"}}"),
            )
            .is_some()
        };
        if passed("relay") && passed("dispatch_sweep") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let relay_pass = metric(
        &text,
        r#"weelo_loop_last_pass_timestamp_seconds{loop="relay"}"#,
    );
    assert!(relay_pass.is_some_and(|at| at > 1.7e9), "{text}");
    assert_eq!(
        metric(
            &text,
            r#"weelo_pool_connections{pool="database",state="max"}"#
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, r#"weelo_pool_connections{pool="redis",state="max"}"#),
        Some(4.0)
    );
    assert_eq!(
        metric(&text, "weelo_outbox_unpublished"),
        Some(0.0),
        "{text}"
    );

    // An event written 42 s ago that no relay has published: the lag.
    let mut conn = app.db.connect().await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO outbox (topic, recipients, payload, created_at) \
             VALUES ('pong', ARRAY['user:none'], '{}', now() - interval '42 seconds')",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(
        metric(&text, "weelo_outbox_unpublished"),
        Some(1.0),
        "{text}"
    );
    let lag = metric(&text, "weelo_outbox_oldest_unpublished_seconds").unwrap_or(0.0);
    assert!((41.0..120.0).contains(&lag), "{text}");
}
