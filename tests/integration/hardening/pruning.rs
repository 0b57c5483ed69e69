//! Tables that would only grow (ended sessions, dead OTP challenges, abuse
//! counters and lockouts) are pruned by the cleanup job.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_cleanup_job_prunes_ended_sessions_dead_otps_and_old_counters() {
    let app = spawn_app().await;
    let leaving = app.token("9876500401", "customer").await;
    let staying = app.token("9876500402", "customer").await;
    let (status, _) = app
        .call(Method::POST, "auth/logout", Some(&leaving), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            "auth/verify-otp",
            json!({ "phone": "9876500403", "otp": "123456", "role": "customer" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no OTP was asked for");
    app.send_otp("9876500404", "customer").await;
    assert!(app.count_rows("rate_counters").await > 0);
    let sessions = app.count_rows("sessions").await;
    assert_eq!(sessions, 2);

    // A week later nothing is old enough yet; past eight days the dead rows go.
    app.clock.advance(Duration::days(7));
    app.expiry.cleanup_once().await.unwrap();
    assert_eq!(app.count_rows("sessions").await, 2);
    app.clock.advance(Duration::days(2));
    let report = app.expiry.cleanup_once().await.unwrap();

    assert_eq!(
        app.count_rows("sessions").await,
        1,
        "the live session stays"
    );
    assert_eq!(app.count_rows("otp_challenges").await, 0);
    assert_eq!(app.count_rows("rate_counters").await, 0);
    assert!(report.auth_pruned >= 4, "{report:?}");
    let (status, body) = app.get_as("profile", &staying).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the access token expired: {body}"
    );
}
