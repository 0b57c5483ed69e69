//! Login by OTP for the three roles, tokens, refresh and logout.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_with, test_settings};

#[tokio::test]
async fn a_customer_logs_in_as_a_new_user_and_reads_its_profile_under_both_keys() {
    let app = spawn_app().await;
    let data = app.login("9876543210", "customer").await;
    assert_eq!(data["isNewUser"], true);
    assert_eq!(data["user"]["phone"], "9876543210");
    assert_eq!(data["user"]["role"], "customer");
    assert_eq!(data["tokens"]["expiresIn"], 3600);
    assert!(data["tokens"]["refreshToken"].is_string());
    let token = data["tokens"]["accessToken"].as_str().unwrap();

    let (status, body) = app.get_as("profile", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["profile"]["id"], data["user"]["id"]);
    assert_eq!(body["data"]["user"]["id"], data["user"]["id"]);
    assert_eq!(body["data"]["profile"]["isProfileComplete"], false);

    app.clock.advance(Duration::seconds(30));
    let again = app.login("9876543210", "customer").await;
    assert_eq!(again["isNewUser"], false);
    assert_eq!(again["user"]["id"], data["user"]["id"]);
    assert_eq!(app.count_rows("users").await, 1);
}

#[tokio::test]
async fn a_transporter_logs_in_updates_its_profile_and_reads_it() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    let profile = json!({
        "name": "Ravi Logistics", "email": "ravi@example.in", "company": "Ravi Roadways",
        "gstNumber": "27aapfu0939f1zv", "panNumber": "ABCDE1234F", "address": null, "city": "Pune", "state": "MH"
    });
    let (status, body) = app
        .call(
            Method::PUT,
            "profile/transporter",
            Some(&token),
            Some(profile),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["user"]["gstNumber"], "27AAPFU0939F1ZV");

    let (status, body) = app.get_as("profile", &token).await;
    assert_eq!(status, StatusCode::OK);
    let user = &body["data"]["user"];
    assert_eq!(user["role"], "transporter");
    assert_eq!(user["company"], "Ravi Roadways");
    assert_eq!(user["businessName"], "Ravi Roadways");
    assert_eq!(user["isProfileComplete"], true);
}

#[tokio::test]
async fn a_driver_logs_in_with_the_otp_sent_to_its_transporter() {
    let app = spawn_app().await;
    let login = app.login("9123456780", "transporter").await;
    let transporter = login["tokens"]["accessToken"].as_str().unwrap();
    let driver = app
        .onboard_driver(transporter, "8012345678", "Suresh")
        .await;
    assert_eq!(driver["isVerified"], true);

    let (status, body) = app
        .post(
            "driver-auth/send-otp",
            json!({ "driverPhone": "8012345678" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["transporterPhoneMasked"], "91******80");
    assert!(body["data"].get("driverId").is_none(), "{body}");
    let otp = body["data"]["otp"].as_str().unwrap();

    let (status, body) = app
        .post(
            "driver-auth/verify-otp",
            json!({ "driverPhone": "8012345678", "otp": otp }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["driver"]["id"], driver["id"]);
    assert_eq!(body["data"]["driver"]["transporterId"], login["user"]["id"]);
    let token = body["data"]["accessToken"].as_str().unwrap();
    assert!(body["data"]["refreshToken"].is_string());

    let (status, body) = app.get_as("driver/profile", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["driver"]["name"], "Suresh");
    // The profile screen's `DriverProfileWithPhotos`: a photos block and a
    // non-null `updatedAt`.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[expect(dead_code, reason = "parsed the way the app parses it")]
    struct DriverProfileWithPhotos {
        id: String,
        name: String,
        phone: String,
        email: Option<String>,
        license_number: Option<String>,
        vehicle_type: Option<String>,
        address: Option<String>,
        language: Option<String>,
        photos: Option<DriverPhotos>,
        is_profile_completed: bool,
        created_at: String,
        updated_at: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[expect(dead_code, reason = "parsed the way the app parses it")]
    struct DriverPhotos {
        profile_photo: Option<String>,
        license_front: Option<String>,
        license_back: Option<String>,
    }
    let profile: DriverProfileWithPhotos =
        serde_json::from_value(body["data"]["driver"].clone()).unwrap();
    assert!(profile.photos.is_some(), "{body}");
}

#[tokio::test]
async fn known_and_unknown_driver_phones_answer_alike() {
    let app = spawn_app().await;
    let transporter = app.token("9123456780", "transporter").await;
    app.onboard_driver(&transporter, "8012345678", "Suresh")
        .await;
    let send =
        |phone: &'static str| app.post("driver-auth/send-otp", json!({ "driverPhone": phone }));

    let (known_status, known) = send("8012345678").await;
    let (unknown_status, unknown) = send("8012345679").await;

    assert_eq!(known_status, StatusCode::OK, "{known}");
    assert_eq!(unknown_status, known_status, "{unknown}");
    assert_eq!(unknown["data"]["message"], known["data"]["message"]);
    let keys = |body: &serde_json::Value| {
        let mut keys: Vec<String> = body["data"].as_object().unwrap().keys().cloned().collect();
        keys.retain(|key| key != "otp" && key != "transporterPhoneMasked");
        keys.sort();
        keys
    };
    assert_eq!(keys(&unknown), keys(&known));
    for field in ["driverId", "driverName", "transporterPhoneMasked", "otp"] {
        assert!(unknown["data"].get(field).is_none(), "{field}: {unknown}");
    }
    // The cooldown and a wrong guess read the same for both.
    let wrong = if known["data"]["otp"] == "000000" {
        "111111"
    } else {
        "000000"
    };
    for phone in ["8012345678", "8012345679"] {
        let (status, body) = send(phone).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{phone}: {body}");
        assert_error(&body, "OTP_RATE_LIMIT_EXCEEDED");
        let (status, body) = app
            .post(
                "driver-auth/verify-otp",
                json!({ "driverPhone": phone, "otp": wrong }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{phone}: {body}");
        assert_error(&body, "INVALID_OTP");
    }
    assert_eq!(app.count_rows("users").await, 2, "no account was made");
}

#[tokio::test]
async fn three_wrong_otps_kill_the_otp_even_for_the_right_one() {
    let app = spawn_app().await;
    let otp = app.send_otp("9876543210", "customer").await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let verify = |otp: String| {
        app.post(
            "auth/verify-otp",
            json!({ "phone": "9876543210", "otp": otp, "role": "customer" }),
        )
    };
    for _ in 0..2 {
        let (status, body) = verify(wrong.to_owned()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, "INVALID_OTP");
    }
    let (status, body) = verify(wrong.to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "OTP_MAX_ATTEMPTS");
    let (_, body) = verify(otp).await;
    assert_error(&body, "OTP_MAX_ATTEMPTS");
    assert_eq!(app.count_rows("users").await, 0);
}

#[tokio::test]
async fn an_expired_otp_fails_with_otp_expired() {
    let app = spawn_app().await;
    let otp = app.send_otp("9876543210", "transporter").await;
    app.clock.advance(Duration::seconds(301));
    let (status, body) = app
        .post(
            "auth/verify-otp",
            json!({ "phone": "9876543210", "otp": otp, "role": "transporter" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "OTP_EXPIRED");
}

#[tokio::test]
async fn a_used_otp_cannot_log_in_twice() {
    let app = spawn_app().await;
    let otp = app.send_otp("9876543210", "customer").await;
    let body = json!({ "phone": "9876543210", "otp": otp, "role": "customer" });
    let (status, _) = app.post("auth/verify-otp", body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post("auth/verify-otp", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "OTP_NOT_FOUND");
}

#[tokio::test]
async fn a_resend_inside_the_cooldown_is_429_with_retry_after() {
    let app = spawn_app().await;
    app.send_otp("9876543210", "customer").await;
    app.clock.advance(Duration::seconds(10));
    let response = app
        .client
        .post(format!("{}/api/v1/auth/send-otp", app.address))
        .json(&json!({ "phone": "9876543210", "role": "customer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "20");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_error(&body, "OTP_RATE_LIMIT_EXCEEDED");
    assert_eq!(body["error"]["retryAfterMs"], 20_000);
    app.clock.advance(Duration::seconds(20));
    app.send_otp("9876543210", "customer").await;
}

#[tokio::test]
async fn the_sixth_send_inside_the_window_is_429_until_the_window_ends() {
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::new().unwrap();
    let mut settings = test_settings(&db, &redis);
    settings.auth.otp_resend_cooldown_secs = 10;
    let app = spawn_with(settings, db, redis).await;
    for _ in 0..5 {
        app.send_otp("9876543210", "customer").await;
        app.clock.advance(Duration::seconds(10));
    }
    let (status, body) = app
        .post(
            "auth/send-otp",
            json!({ "phone": "9876543210", "role": "customer" }),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_error(&body, "OTP_RATE_LIMIT_EXCEEDED");
    // Sent at 0 s, 10 s … 40 s; now is 50 s; the 120 s window ends at 120 s.
    assert_eq!(body["error"]["retryAfterMs"], 70_000);
    app.clock.advance(Duration::seconds(70));
    app.send_otp("9876543210", "customer").await;
}

#[tokio::test]
async fn a_tampered_an_expired_and_a_missing_token_are_401() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let (status, body) = app.get_as("profile", &tampered).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "UNAUTHORIZED");

    let (status, body) = app.call(Method::GET, "profile", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "UNAUTHORIZED");

    app.clock.advance(Duration::seconds(3600));
    let (status, body) = app.get_as("profile", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "TOKEN_EXPIRED");
}

#[tokio::test]
async fn refresh_keeps_working_after_use_and_logout_revokes_both_tokens() {
    let app = spawn_app().await;
    let data = app.login("9876543210", "customer").await;
    let refresh_token = data["tokens"]["refreshToken"].as_str().unwrap();
    let access = data["tokens"]["accessToken"].as_str().unwrap();

    app.clock.advance(Duration::seconds(4000));
    let mut fresh = String::new();
    for _ in 0..2 {
        let (status, body) = app
            .post("auth/refresh", json!({ "refreshToken": refresh_token }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["expiresIn"], 3600);
        fresh = body["data"]["accessToken"].as_str().unwrap().to_owned();
    }
    let (status, _) = app.get_as("profile", &fresh).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get_as("profile", access).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the first access token has expired"
    );

    let (status, _) = app
        .call(Method::POST, "auth/logout", Some(&fresh), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.get_as("profile", &fresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "UNAUTHORIZED");
    let (status, body) = app
        .post("auth/refresh", json!({ "refreshToken": refresh_token }))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "INVALID_REFRESH_TOKEN");
}

#[tokio::test]
async fn a_refresh_token_dies_after_thirty_days() {
    let app = spawn_app().await;
    let data = app.login("9876543210", "transporter").await;
    app.clock.advance(Duration::days(30));
    let (status, body) = app
        .post(
            "auth/refresh",
            json!({ "refreshToken": data["tokens"]["refreshToken"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "INVALID_REFRESH_TOKEN");
}

#[tokio::test]
async fn a_customer_calling_a_transporter_route_is_403() {
    let app = spawn_app().await;
    let token = app.token("9876543210", "customer").await;
    let (status, body) = app.get_as("vehicles/list", &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "FORBIDDEN");
    let (status, body) = app.get_as("driver/profile", &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "FORBIDDEN");
}

#[tokio::test]
async fn invalid_login_input_is_400_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            "auth/send-otp",
            json!({ "phone": "12345", "role": "customer" }),
            "phone",
        ),
        (
            "auth/send-otp",
            json!({ "phone": "9876543210", "role": "admin" }),
            "role",
        ),
        (
            "auth/send-otp",
            json!({ "phone": 9876543210_u64, "role": "customer" }),
            "phone",
        ),
        ("auth/send-otp", json!({ "role": "customer" }), "phone"),
        (
            "auth/verify-otp",
            json!({ "phone": "9876543210", "otp": "12ab56", "role": "customer" }),
            "otp",
        ),
        (
            "driver-auth/send-otp",
            json!({ "driverPhone": "+919876543210" }),
            "driverPhone",
        ),
    ];
    for (path, body, field) in cases {
        let (status, answer) = app.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
        assert_error(&answer, "VALIDATION_ERROR");
        assert_eq!(
            answer["error"]["details"]["field"], field,
            "{path} {body}: {answer}"
        );
    }
    assert_eq!(app.count_rows("otp_challenges").await, 0);
    assert_eq!(app.count_rows("users").await, 0);
}

#[tokio::test]
async fn device_tokens_are_registered_and_unregistered() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    let body = json!({ "token": "fcm-token-1", "deviceType": "android", "deviceId": null });
    let (status, answer) = app
        .call(
            Method::POST,
            "notifications/register-token",
            Some(&token),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["role"], "transporter");
    assert_eq!(app.count_rows("device_tokens").await, 1);
    let body = json!({ "token": "fcm-token-1" });
    let (status, answer) = app
        .call(
            Method::DELETE,
            "notifications/unregister-token",
            Some(&token),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["data"]["removed"], true);
    assert_eq!(app.count_rows("device_tokens").await, 0);
}

#[tokio::test]
async fn a_device_token_moves_to_another_user_only_from_the_same_device() {
    let app = spawn_app().await;
    let owner = app.token("9123456780", "transporter").await;
    let other = app.token("9123456781", "transporter").await;
    let register = |token: &String, device: Option<&'static str>| {
        let body = json!({ "token": "fcm-token-1", "deviceType": "android", "deviceId": device });
        let token = token.clone();
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "notifications/register-token",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let (status, _) = register(&owner, Some("phone-a")).await;
    assert_eq!(status, StatusCode::OK);
    let owner_of = || {
        app.count_rows(
            "device_tokens t JOIN users u ON u.id = t.user_id WHERE u.phone = '9123456780'",
        )
    };

    // Knowing the token is not enough, with another device or none.
    for device in [Some("phone-b"), None] {
        let (status, body) = register(&other, device).await;
        assert_eq!(status, StatusCode::CONFLICT, "{device:?}: {body}");
        assert_error(&body, "DEVICE_TOKEN_IN_USE");
        assert_eq!(owner_of().await, 1, "still the owner's");
    }

    // The same phone, logged in as the other user, takes it over.
    let (status, body) = register(&other, Some("phone-a")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(owner_of().await, 0);
    assert_eq!(app.count_rows("device_tokens").await, 1);
}
