//! Metric labels come from closed sets, and `/metrics` is served only where
//! the operator says.

use reqwest::{Method, StatusCode};
use weelo_test_support::{TestDb, TestRedis};

use crate::helpers::{assert_error, spawn_app, spawn_with, status_and_json, test_settings};

#[tokio::test]
async fn made_up_methods_answer_405_and_share_one_metric_label() {
    let app = spawn_app().await;
    for n in 0..300 {
        let method = Method::from_bytes(format!("MADEUP{n}").as_bytes()).unwrap();
        let response = app
            .client
            .request(method, format!("{}/api/v1/health", app.address))
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
        assert_error(&body, "METHOD_NOT_ALLOWED");
    }

    let text = app.get("/metrics").await.text().await.unwrap();

    assert!(!text.contains("MADEUP"), "a client's method became a label");
    assert!(
        text.contains(
            r#"weelo_http_requests_total{method="OTHER",route="/api/v1/health",status="405"} 300"#
        ),
        "{text}"
    );
    let series = text
        .lines()
        .filter(|line| line.starts_with("weelo_http_requests_total{"))
        .count();
    assert!(
        series <= 3,
        "labels grew with the made-up methods: {series}"
    );
}

#[tokio::test]
async fn metrics_can_live_on_a_listener_of_their_own_and_off_the_public_one() {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let mut settings = test_settings(&db, &redis);
    settings.metrics.public = false;
    settings.metrics.listen = Some("127.0.0.1:0".to_owned());
    let app = spawn_with(settings, db, redis).await;
    app.get("/api/v1/health").await;

    let (status, body) = status_and_json(app.get("/metrics").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "NOT_FOUND");

    let private = app.metrics_address.clone().unwrap();
    let response = app
        .client
        .get(format!("{private}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"route="/api/v1/health",status="200"} 1"#),
        "{text}"
    );
    let other = app
        .client
        .get(format!("{private}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "only /metrics there");
}

#[test]
fn production_keeps_metrics_off_the_public_listener_by_default() {
    let settings = crate::hardening::production_settings(&[]).unwrap();
    assert!(!settings.metrics.public);
    assert_eq!(settings.metrics.listen, None);
}
