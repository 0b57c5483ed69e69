//! Per-user limits on heartbeats, GPS batches, holds and replays: 429 in
//! the envelope past them, a refill with time.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, spawn_tuned};
use crate::realtime::transporter_at;

#[tokio::test]
async fn heartbeats_and_replays_past_the_per_user_limit_answer_429_until_time_refills() {
    let app = spawn_tuned(|settings| {
        settings.limits.heartbeats_per_minute = 3;
        settings.limits.backlogs_per_minute = 2;
    })
    .await;
    let token = transporter_at(&app, "9123456780", "MH12AB1234", (19.08, 72.88)).await;
    let other = transporter_at(&app, "9123456781", "MH12AB1235", (19.07, 72.87)).await;
    let beat = |token: String| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "transporter/heartbeat",
                Some(&token),
                Some(json!({ "latitude": 19.08, "longitude": 72.88 })),
            )
            .await
        }
    };
    // transporter_at beat once already.
    for _ in 0..2 {
        assert_eq!(beat(token.clone()).await.0, StatusCode::OK);
    }
    let (status, body) = beat(token.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "RATE_LIMIT_EXCEEDED");
    assert_eq!(body["error"]["retryAfterMs"], 20_000);
    assert_eq!(beat(other.clone()).await.0, StatusCode::OK, "per user");
    app.clock.advance(Duration::seconds(20));
    assert_eq!(beat(token.clone()).await.0, StatusCode::OK);

    for _ in 0..2 {
        let (status, _) = app
            .get_as("transporter/dispatch/replay?cursor=0", &token)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = app
        .get_as("transporter/dispatch/replay?cursor=0", &token)
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}
