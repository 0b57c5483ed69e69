//! OTPs through real SMS providers' protocols, against a local stand-in on
//! a free port that checks what each documents: MSG91's Flow API (the
//! `authkey` header; the template, sender and India's DLT template and
//! entity ids; the recipient with `91` and the code) and Twilio's Messages
//! resource (HTTP Basic with the account SID; `To`, `From`, `Body` as a
//! form). A 5xx is retried; a provider's failure is 503 `SMS_UNAVAILABLE`
//! and does not use up the phone's cooldown.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::StatusCode;
use serde_json::{Value, json};
use weelo_api::auth::SmsProvider;

use crate::helpers::{TestApp, assert_error, spawn_tuned};

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: Option<String>,
    auth_key: Option<String>,
    content_type: Option<String>,
    body: String,
}

#[derive(Default)]
struct State {
    seen: Mutex<Vec<Seen>>,
    /// Answer this many requests with 500 first.
    failures: AtomicUsize,
    /// Refuse every request (as the provider does a bad number).
    refuse: std::sync::atomic::AtomicBool,
}

struct StandIn {
    url: String,
    state: Arc<State>,
    handle: ServerHandle,
}

impl StandIn {
    async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(State::default());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state, handle }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state.seen.lock().unwrap().push(Seen {
        path: req.path().to_owned(),
        authorization: header("authorization"),
        auth_key: header("authkey"),
        content_type: header("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    if state
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return HttpResponse::InternalServerError().finish();
    }
    let twilio = req.path().starts_with("/2010-04-01/");
    if state.refuse.load(Ordering::SeqCst) {
        return if twilio {
            HttpResponse::BadRequest().json(json!({ "code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400 }))
        } else {
            HttpResponse::Ok().json(json!({ "type": "error", "message": "Template not found" }))
        };
    }
    if twilio {
        HttpResponse::Created().json(json!({ "sid": "SM0123456789abcdef", "status": "queued" }))
    } else {
        HttpResponse::Ok().json(json!({ "type": "success", "message": "3763646c3058313530323030" }))
    }
}

async fn msg91_app(stand_in: &StandIn) -> TestApp {
    let url = stand_in.url.clone();
    spawn_tuned(move |s| {
        // One SMS a minute for the whole service: a failed send must give
        // its unit back for the retry to go.
        s.auth.sms_budget_per_minute = 1;
        s.sms.provider = SmsProvider::Msg91;
        s.sms.msg91_base_url = url;
        s.sms.msg91_auth_key = Some("msg91-test-key".to_owned().into());
        s.sms.msg91_template_id = Some("64f0c0ffee".to_owned());
        s.sms.msg91_sender = Some("WEELOT".to_owned());
        s.sms.dlt_template_id = Some("1207168000000000001".to_owned());
        s.sms.dlt_entity_id = Some("1201160000000000002".to_owned());
        s.sms.request_timeout_ms = 1000;
    })
    .await
}

async fn send_otp(app: &TestApp, phone: &str) -> (StatusCode, Value) {
    app.post(
        "auth/send-otp",
        json!({ "phone": phone, "role": "customer" }),
    )
    .await
}

#[tokio::test]
async fn msg91_gets_the_dlt_template_and_the_code_and_a_5xx_is_retried() {
    let stand_in = StandIn::start().await;
    let app = msg91_app(&stand_in).await;
    stand_in.state.failures.store(2, Ordering::SeqCst);
    let (status, sent) = send_otp(&app, "9876543210").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let seen = stand_in.seen();
    assert_eq!(seen.len(), 3, "two 500s, then sent");
    let request = &seen[2];
    assert_eq!(request.path, "/api/v5/flow");
    assert_eq!(request.auth_key.as_deref(), Some("msg91-test-key"));
    assert!(
        request
            .content_type
            .as_deref()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["template_id"], "64f0c0ffee");
    assert_eq!(body["sender"], "WEELOT");
    assert_eq!(body["DLT_TE_ID"], "1207168000000000001");
    assert_eq!(body["PE_ID"], "1201160000000000002");
    assert_eq!(body["recipients"][0]["mobiles"], "919876543210");
    assert_eq!(body["recipients"][0]["otp"], sent["data"]["otp"]);
}

#[tokio::test]
async fn a_provider_failure_is_503_and_leaves_the_cooldown_unused() {
    let stand_in = StandIn::start().await;
    let app = msg91_app(&stand_in).await;
    stand_in
        .state
        .refuse
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = send_otp(&app, "9876543210").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(&body, "SMS_UNAVAILABLE");
    assert_eq!(stand_in.seen().len(), 1, "a refusal is not retried");
    // The code that never went out does not log anyone in.
    let (status, _) = app
        .post(
            "auth/verify-otp",
            json!({ "phone": "9876543210", "otp": "000000", "role": "customer" }),
        )
        .await;
    assert_ne!(status, StatusCode::OK);

    // The provider is back: the resend goes at once, no cooldown to wait
    // and the service's SMS budget untouched by the failure.
    stand_in
        .state
        .refuse
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = send_otp(&app, "9876543210").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn twilio_gets_a_form_with_basic_auth_and_a_refusal_is_503() {
    let stand_in = StandIn::start().await;
    let url = stand_in.url.clone();
    let app = spawn_tuned(move |s| {
        s.sms.provider = SmsProvider::Twilio;
        s.sms.twilio_base_url = url;
        s.sms.twilio_account_sid = Some("AC0123456789abcdef".to_owned());
        s.sms.twilio_auth_token = Some("twilio-test-token".to_owned().into());
        s.sms.twilio_from = Some("+15005550006".to_owned());
    })
    .await;
    let (status, sent) = send_otp(&app, "9876543210").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let seen = stand_in.seen();
    let request = &seen[0];
    assert_eq!(
        request.path,
        "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    );
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("AC0123456789abcdef:twilio-test-token")
    );
    assert_eq!(request.authorization.as_deref(), Some(expected.as_str()));
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        request.body.contains("To=%2B919876543210"),
        "{}",
        request.body
    );
    assert!(request.body.contains("From=%2B15005550006"));
    let otp = sent["data"]["otp"].as_str().unwrap();
    assert!(
        request.body.contains(&format!("Body={otp}")),
        "{}",
        request.body
    );

    stand_in
        .state
        .refuse
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = send_otp(&app, "9876543211").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(&body, "SMS_UNAVAILABLE");
}
