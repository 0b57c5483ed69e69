//! Security headers on every answer.

use crate::helpers::{spawn_app, spawn_tuned};

#[tokio::test]
async fn every_answer_carries_nosniff_and_no_referrer_and_hsts_only_when_asked() {
    let app = spawn_app().await;
    for path in ["/api/v1/health", "/api/v1/no-such-route", "/metrics"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
    }
    let app = spawn_tuned(|settings| settings.server.hsts = true).await;
    let response = app.get("/api/v1/health").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}
