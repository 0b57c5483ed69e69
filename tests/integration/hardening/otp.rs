//! OTP brute force and SMS pumping: a long-window lock per phone, limits per
//! client address, a service-wide SMS budget, all kept in PostgreSQL.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_tuned, status_and_json};

fn send_body(phone: &str) -> Value {
    json!({ "phone": phone, "role": "customer" })
}

fn verify_body(phone: &str, otp: &str) -> Value {
    json!({ "phone": phone, "otp": otp, "role": "customer" })
}

/// A six-digit guess that is not `otp`.
fn wrong(otp: &str) -> &'static str {
    if otp == "000000" { "111111" } else { "000000" }
}

#[tokio::test]
async fn ten_wrong_guesses_across_resends_lock_the_phone_for_an_hour() {
    let app = spawn_tuned(|_| {}).await;
    let phone = "9876500001";
    let mut failures = 0;
    let mut otp = String::new();
    while failures < 10 {
        otp = app.send_otp(phone, "customer").await;
        for _ in 0..3 {
            if failures == 10 {
                break;
            }
            let (status, body) = app
                .post("auth/verify-otp", verify_body(phone, wrong(&otp)))
                .await;
            failures += 1;
            if failures < 10 {
                assert_eq!(status, StatusCode::BAD_REQUEST, "guess {failures}: {body}");
            } else {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "guess 10: {body}");
                assert_error(&body, "OTP_LOCKED");
            }
        }
        // Past the resend cooldown, inside the send window.
        app.clock.advance(Duration::seconds(31));
    }

    // Locked: the right OTP of a fresh send is refused, and so is the send.
    let (status, body) = app.post("auth/send-otp", send_body(phone)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "OTP_LOCKED");
    let retry_ms = body["error"]["retryAfterMs"].as_u64().unwrap();
    assert!((3_400_000..=3_600_000).contains(&retry_ms), "{body}");
    let (status, body) = app.post("auth/verify-otp", verify_body(phone, &otp)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "OTP_LOCKED");
    // Another phone is not affected.
    app.login("9876500002", "customer").await;

    // After the hour one guess is allowed; still inside the 24 h window, a
    // wrong one locks the phone again at once.
    app.clock.advance(Duration::minutes(61));
    let otp = app.send_otp(phone, "customer").await;
    let (status, body) = app
        .post("auth/verify-otp", verify_body(phone, wrong(&otp)))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "OTP_LOCKED");

    // A right guess after the lock logs in and clears the count.
    app.clock.advance(Duration::minutes(61));
    app.login(phone, "customer").await;
    assert_eq!(app.count_rows("otp_lockouts").await, 0);
}

#[tokio::test]
async fn the_lock_holds_with_redis_gone() {
    let app = spawn_tuned(|settings| {
        settings.redis.url = "redis://127.0.0.1:1".to_owned().into();
        settings.auth.otp_lock_after_failures = 2;
    })
    .await;
    let phone = "9876500003";
    let otp = app.send_otp(phone, "customer").await;
    let (status, _) = app
        .post("auth/verify-otp", verify_body(phone, wrong(&otp)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = app
        .post("auth/verify-otp", verify_body(phone, wrong(&otp)))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "OTP_LOCKED");
    let (status, body) = app.post("auth/verify-otp", verify_body(phone, &otp)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn one_address_gets_a_limited_number_of_sends_and_verifies_for_every_role() {
    let app = spawn_tuned(|settings| {
        settings.auth.otp_sends_per_ip = 3;
        settings.auth.otp_verifies_per_ip = 2;
    })
    .await;
    for n in 0..3 {
        app.send_otp(&format!("987650010{n}"), "customer").await;
    }
    // The fourth send, whatever the role or flow, is refused.
    let (status, body) = app
        .post(
            "auth/send-otp",
            json!({ "phone": "9876500109", "role": "transporter" }),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "RATE_LIMIT_EXCEEDED");
    assert!(
        body["error"]["retryAfterMs"].as_u64().unwrap() > 500_000,
        "{body}"
    );
    let (status, body) = app
        .post(
            "driver-auth/send-otp",
            json!({ "driverPhone": "9876500108" }),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    for _ in 0..2 {
        let (status, _) = app
            .post("auth/verify-otp", verify_body("9876500100", "123456"))
            .await;
        assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    let (status, body) = app
        .post(
            "driver-auth/verify-otp",
            json!({ "driverPhone": "9876500100", "otp": "123456" }),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "RATE_LIMIT_EXCEEDED");

    // A new window allows sends again.
    app.clock.advance(Duration::seconds(601));
    app.send_otp("9876500109", "customer").await;
}

#[tokio::test]
async fn x_forwarded_for_counts_only_behind_a_trusted_proxy() {
    let send_as = |app: &TestApp, forwarded: &str, phone: &str| {
        app.client
            .post(format!("{}/api/v1/auth/send-otp", app.address))
            .header("X-Forwarded-For", forwarded.to_owned())
            .json(&send_body(phone))
            .send()
    };
    // Untrusted peer: a forged header does not give a fresh allowance.
    let app = spawn_tuned(|settings| settings.auth.otp_sends_per_ip = 1).await;
    let (status, _) =
        status_and_json(send_as(&app, "203.0.113.1", "9876500201").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        status_and_json(send_as(&app, "203.0.113.2", "9876500202").await.unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    // Behind a trusted proxy each client has its own allowance.
    let app = spawn_tuned(|settings| {
        settings.auth.otp_sends_per_ip = 1;
        settings.server.trusted_proxies = vec!["127.0.0.0/8".to_owned()];
    })
    .await;
    for (client, phone) in [("203.0.113.1", "9876500203"), ("203.0.113.2", "9876500204")] {
        let forwarded = format!("198.51.100.9, {client}");
        let (status, body) = status_and_json(send_as(&app, &forwarded, phone).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{client}: {body}");
    }
    let (status, _) =
        status_and_json(send_as(&app, "203.0.113.1", "9876500205").await.unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn past_the_sms_budget_sends_answer_503_and_store_nothing() {
    let app = spawn_tuned(|settings| settings.auth.sms_budget_per_minute = 2).await;
    app.send_otp("9876500301", "customer").await;
    app.send_otp("9876500302", "customer").await;

    let (status, body) = app.post("auth/send-otp", send_body("9876500303")).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(&body, "SMS_BUDGET_EXHAUSTED");
    assert_eq!(app.count_rows("otp_challenges").await, 2, "no OTP stored");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("weelo_sms_budget_exhausted_total 1"),
        "{metrics}"
    );
    // The next minute has a budget again, and no cooldown was started.
    app.clock.advance(Duration::seconds(61));
    app.send_otp("9876500303", "customer").await;
}
