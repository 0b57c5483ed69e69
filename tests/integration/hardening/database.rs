//! A PostgreSQL connection lost in the middle of a request answers 503,
//! retryable, never 500.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app};

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_terminated_mid_request_answers_503_and_the_next_request_recovers() {
    let app = spawn_app().await;
    let token = app.token("9876500701", "customer").await;
    // Hold the users table, so the next profile read waits on its lock.
    let mut holder = app.db.connect().await.unwrap();
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .await
        .unwrap();
    diesel::sql_query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let address = app.address.clone();
    let in_flight = tokio::spawn({
        let client = app.client.clone();
        let token = token.clone();
        async move {
            client
                .get(format!("{address}/api/v1/profile"))
                .bearer_auth(token)
                .send()
                .await
        }
    });

    // The operator terminates the waiting backend (a shutdown, a failover).
    let mut admin = app.db.connect().await.unwrap();
    let waiting = loop {
        let found: Vec<Waiting> = diesel::sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .load(&mut admin)
        .await
        .unwrap();
        if let Some(backend) = found.into_iter().next() {
            break backend.pid;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    diesel::sql_query("SELECT pg_terminate_backend($1, 5000)")
        .bind::<Integer, _>(waiting)
        .execute(&mut admin)
        .await
        .unwrap();
    let response = in_flight.await.unwrap().unwrap();
    diesel::sql_query("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();

    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(&body, "SERVICE_UNAVAILABLE");
    let (status, body) = app.get_as("profile", &token).await;
    assert_eq!(status, StatusCode::OK, "the pool recovers: {body}");
}

#[derive(QueryableByName)]
struct Encrypted {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_takes_only_tls_is_served_when_the_url_says_sslmode_require() {
    let server = weelo_test_support::PostgresServer::start_tls_only().unwrap();
    let plain =
        weelo_persistence::tls::Connector::for_url(&server.url("sslmode=disable"), None).unwrap();
    assert!(
        plain.connect(&server.url("sslmode=disable")).await.is_err(),
        "the server refuses connections without TLS"
    );
    let url = server.url("sslmode=require");
    let tls = weelo_persistence::tls::Connector::for_url(&url, None).unwrap();
    let mut conn = tls.connect(&url).await.unwrap();
    let encrypted: Encrypted =
        diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .get_result(&mut conn)
            .await
            .unwrap();
    assert!(encrypted.ssl);

    // The whole server over it: migrations, the pool, a login, readiness;
    // the certificate checked against the one the test made.
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::new().unwrap();
    let mut settings = crate::helpers::test_settings(&db, &redis);
    settings.database.url = url.into();
    settings.database.tls_root_cert = Some(server.certificate().to_string_lossy().into_owned());
    let app = crate::helpers::spawn_with(settings, db, redis).await;
    let token = app.token("9876500801", "customer").await;
    let (status, body) = app.get_as("profile", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get_as("health/ready", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
