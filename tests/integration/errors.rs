//! The error envelope of requests that reach no handler.

use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app, status_and_json};

#[tokio::test]
async fn an_unknown_route_is_404_not_found_in_the_envelope() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/definitely/not/here").await;

    assert!(response.headers().get("x-request-id").is_some());
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "NOT_FOUND");
}

#[tokio::test]
async fn a_plain_request_id_from_the_client_is_echoed_and_a_hostile_one_replaced() {
    let app = spawn_app().await;
    let send = |id: &'static str| {
        app.client
            .get(format!("{}/api/v1/health", app.address))
            .header("x-request-id", id)
            .send()
    };

    let kept = send("trace-abc_123").await.unwrap();
    let replaced = send("evil id\twith spaces").await.unwrap();

    assert_eq!(kept.headers()["x-request-id"], "trace-abc_123");
    let new_id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(new_id, "evil id\twith spaces");
    assert_eq!(new_id.len(), 36, "a fresh UUID: {new_id}");
}
