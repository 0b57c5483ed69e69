//! The logs never carry an OTP, a token or a full phone number: every
//! login flow runs with a process-wide subscriber at `debug` that writes into
//! a buffer, and the buffer is searched for each secret the flows produced.
//! The same buffer shows a load balancer's health probes at debug, not info.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

#[path = "../integration/helpers.rs"]
#[expect(dead_code, reason = "this binary uses only some helpers")]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_otp_token_or_full_phone_number_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug,hyper=info,hyper_util=info,reqwest=info,h2=info")
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .init();

    let app = helpers::spawn_app().await;
    let mut secrets: Vec<String> = Vec::new();
    let phones = ["9876543210", "9123456780", "8012345678"];

    let customer = app.login(phones[0], "customer").await;
    let transporter = app.login(phones[1], "transporter").await;
    for data in [&customer, &transporter] {
        secrets.push(data["tokens"]["accessToken"].as_str().unwrap().to_owned());
        secrets.push(data["tokens"]["refreshToken"].as_str().unwrap().to_owned());
    }
    let transporter_token = transporter["tokens"]["accessToken"].as_str().unwrap();
    let (_, body) = app
        .call(
            Method::POST,
            "driver/onboard/initiate",
            Some(transporter_token),
            Some(json!({ "phone": phones[2], "name": "Suresh" })),
        )
        .await;
    let otp = body["data"]["otp"].as_str().unwrap().to_owned();
    secrets.push(otp.clone());
    let (status, _) = app
        .call(
            Method::POST,
            "driver/onboard/verify",
            Some(transporter_token),
            Some(json!({ "phone": phones[2], "otp": otp })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app
        .post("driver-auth/send-otp", json!({ "driverPhone": phones[2] }))
        .await;
    let otp = body["data"]["otp"].as_str().unwrap().to_owned();
    secrets.push(otp.clone());
    let (status, body) = app
        .post(
            "driver-auth/verify-otp",
            json!({ "driverPhone": phones[2], "otp": otp }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    secrets.push(body["data"]["accessToken"].as_str().unwrap().to_owned());
    let refresh = customer["tokens"]["refreshToken"].as_str().unwrap();
    let (status, body) = app
        .post("auth/refresh", json!({ "refreshToken": refresh }))
        .await;
    assert_eq!(status, StatusCode::OK);
    secrets.push(body["data"]["accessToken"].as_str().unwrap().to_owned());
    // A failed verify logs too: it must not echo the guess.
    let (status, _) = app
        .post(
            "auth/verify-otp",
            json!({ "phone": phones[0], "otp": "000000", "role": "customer" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/api/v1/health/ready").await.status(),
        StatusCode::OK
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line_of = |what: &str| {
        logs.lines()
            .find(|line| line.contains(what))
            .unwrap_or_default()
            .to_owned()
    };
    let probe = line_of("GET /api/v1/health/ready answered 200");
    assert!(probe.contains("DEBUG"), "a good probe is debug: {probe}");
    let refused = line_of("POST /api/v1/auth/verify-otp answered 400");
    assert!(
        refused.contains("INFO"),
        "other answers stay info: {refused}"
    );
    assert!(
        logs.contains("OTP sent"),
        "the capture works and sends are logged:\n{logs}"
    );
    assert!(logs.contains("98******10"), "phones appear masked:\n{logs}");
    for phone in phones {
        assert!(!logs.contains(phone), "a full phone number was logged");
    }
    for secret in &secrets {
        // OTPs are six digits: search for them as whole words only.
        let leaked = if secret.len() == 6 {
            logs.split(|c: char| !c.is_ascii_digit())
                .any(|word| word == secret)
        } else {
            logs.contains(secret.as_str())
        };
        assert!(
            !leaked,
            "a secret of {} characters was logged",
            secret.len()
        );
    }
}
