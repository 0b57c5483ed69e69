//! Numbers from the client never overflow the server's arithmetic.

use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_replay_cursor_past_any_sequence_is_400_not_an_overflow() {
    let app = spawn_app().await;
    let transporter = app.token("9123456780", "transporter").await;
    for cursor in [i64::MAX.to_string(), "9007199254740992".to_owned()] {
        let (status, body) = app
            .get_as(
                &format!("transporter/dispatch/replay?cursor={cursor}"),
                &transporter,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cursor}: {body}");
        assert_error(&body, "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"]["field"], "cursor");
    }
    let (status, body) = app
        .get_as(
            "transporter/dispatch/replay?cursor=9007199254740991",
            &transporter,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
