//! A local stand-in for Firebase Cloud Messaging, on a free port: it plays
//! the service account's token endpoint (checking the RS256 assertion with
//! the public half of a key pair made here, and its claims) and
//! `messages:send` (checking the bearer token and the message's documented
//! shape), records every message, and answers as a test scripts it.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use openssl::sign::Verifier;
use serde_json::{Value, json};
use weelo_server::Settings;

const PROJECT: &str = "weelo-stand-in";
const CLIENT_EMAIL: &str = "push@weelo-stand-in.iam.gserviceaccount.com";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// One `messages:send` the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `message.token`.
    pub token: String,
    /// `message.data`.
    pub data: Value,
    /// `message.android`.
    pub android: Value,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    /// `data[key]` as a string.
    pub fn get(&self, key: &str) -> &str {
        self.data[key].as_str().unwrap_or("")
    }
}

/// How the next `messages:send` is answered.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// 200 with a message name.
    Ok,
    /// This status with FCM's error body (and `Retry-After` seconds).
    Status(u16, Option<u64>),
}

#[derive(Default)]
struct Seen {
    received: Vec<Received>,
    refusals: Vec<String>,
    issued: Vec<String>,
}

struct State {
    key: PKey<Public>,
    token_uri: String,
    seen: Mutex<Seen>,
    script: Mutex<VecDeque<Answer>>,
    unregistered: Mutex<HashSet<String>>,
    down: AtomicBool,
    token_requests: AtomicUsize,
}

/// The running stand-in; stopped (and its credentials file removed) on drop.
pub struct FcmStandIn {
    /// `http://127.0.0.1:{port}`.
    pub base_url: String,
    /// The service-account JSON the server is given.
    pub credentials: PathBuf,
    state: Arc<State>,
    handle: ServerHandle,
}

impl FcmStandIn {
    /// Makes a key pair, writes the service account's file and starts.
    pub async fn start() -> Self {
        let rsa = Rsa::generate(2048).unwrap();
        let private = PKey::from_rsa(rsa).unwrap();
        let public = PKey::public_key_from_pem(&private.public_key_to_pem().unwrap()).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let token_uri = format!("{base_url}/token");
        let credentials =
            std::env::temp_dir().join(format!("weelo-fcm-{}.json", uuid::Uuid::new_v4()));
        let account = json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "stand-in-key-1",
            "private_key": String::from_utf8(private.private_key_to_pem_pkcs8().unwrap()).unwrap(),
            "client_email": CLIENT_EMAIL,
            "client_id": "1",
            "token_uri": token_uri,
        });
        std::fs::write(&credentials, account.to_string()).unwrap();
        let state = Arc::new(State {
            key: public,
            token_uri,
            seen: Mutex::default(),
            script: Mutex::default(),
            unregistered: Mutex::default(),
            down: AtomicBool::new(false),
            token_requests: AtomicUsize::new(0),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/token", web::post().to(token))
                .route("/v1/projects/{project}/messages:send", web::post().to(send))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base_url,
            credentials,
            state,
            handle,
        }
    }

    /// Points `settings` at this stand-in through FCM.
    pub fn configure(&self, settings: &mut Settings) {
        settings.push.provider = weelo_dispatch::push::PushProvider::Fcm;
        settings.push.fcm_credentials_file = Some(self.credentials.clone());
        settings.push.fcm_base_url = self.base_url.clone();
        settings.push.request_timeout_ms = 2000;
    }

    /// Answers the next sends with `answers`, in order (then 200s).
    pub fn script(&self, answers: &[Answer]) {
        self.state.script.lock().unwrap().extend(answers);
    }

    /// Answers every send to `token` with `UNREGISTERED`.
    pub fn unregister(&self, token: &str) {
        self.state
            .unregistered
            .lock()
            .unwrap()
            .insert(token.to_owned());
    }

    /// Answers every send with 503 while `down`.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.seen.lock().unwrap().received.clone()
    }

    /// Requests refused for a bad assertion, token or message.
    pub fn refusals(&self) -> Vec<String> {
        self.state.seen.lock().unwrap().refusals.clone()
    }

    /// How many access tokens were asked for.
    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// Waits (up to 10 s) until some received message matches; returns it.
    pub async fn wait_for(&self, what: impl Fn(&Received) -> bool) -> Received {
        for _ in 0..500 {
            if let Some(found) = self.received().into_iter().find(|r| what(r)) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "no such push arrived; received: {:#?}; refusals: {:?}",
            self.received(),
            self.refusals()
        );
    }

    /// The delivered (200) messages of `kind` to `token`.
    pub fn delivered(&self, token: &str, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.token == token && r.get("type") == kind && r.answered == 200)
            .collect()
    }
}

impl Drop for FcmStandIn {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        let _ = std::fs::remove_file(&self.credentials);
    }
}

fn refuse(state: &State, status: u16, why: String) -> HttpResponse {
    state.seen.lock().unwrap().refusals.push(why.clone());
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(json!({ "error": "invalid_grant", "error_description": why }))
}

/// The token endpoint: a JWT-bearer grant whose assertion is signed with
/// the account's key and claims what Google requires.
async fn token(state: web::Data<State>, body: String) -> HttpResponse {
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    let mut grant = None;
    let mut assertion = None;
    for pair in body.split('&') {
        match pair.split_once('=') {
            Some(("grant_type", value)) => grant = Some(value.to_owned()),
            Some(("assertion", value)) => assertion = Some(value.to_owned()),
            _ => {}
        }
    }
    if grant.as_deref() != Some("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") {
        return refuse(&state, 400, format!("grant_type {grant:?}"));
    }
    let Some(assertion) = assertion else {
        return refuse(&state, 400, "no assertion".to_owned());
    };
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 {
        return refuse(&state, 400, "not a JWT".to_owned());
    }
    let decode = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (Some(header), Some(claims)) = (decode(parts[0]), decode(parts[1])) else {
        return refuse(&state, 400, "unreadable JWT".to_owned());
    };
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
    let mut verifier = Verifier::new(MessageDigest::sha256(), &state.key).unwrap();
    verifier
        .update(format!("{}.{}", parts[0], parts[1]).as_bytes())
        .unwrap();
    if header["alg"] != "RS256" || !verifier.verify(&signature).unwrap_or(false) {
        return refuse(&state, 400, "bad signature".to_owned());
    }
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    if claims["iss"] != CLIENT_EMAIL
        || claims["scope"] != SCOPE
        || claims["aud"] != state.token_uri.as_str()
        || !(1..=3600).contains(&lifetime)
    {
        return refuse(&state, 400, format!("bad claims {claims}"));
    }
    let issued = format!("ya29.stand-in-{}", uuid::Uuid::new_v4());
    state.seen.lock().unwrap().issued.push(issued.clone());
    HttpResponse::Ok()
        .json(json!({ "access_token": issued, "expires_in": 3599, "token_type": "Bearer" }))
}

fn fcm_error(status: u16, word: &str, code: &str) -> Value {
    json!({ "error": { "code": status, "message": word, "status": word, "details": [
        { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code }
    ] } })
}

/// `messages:send`: a bearer token it issued, a data message whose values
/// are strings, Android priority and TTL as documented.
async fn send(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> HttpResponse {
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    if !state.seen.lock().unwrap().issued.contains(&bearer) {
        state
            .seen
            .lock()
            .unwrap()
            .refusals
            .push("unknown bearer".to_owned());
        return HttpResponse::Unauthorized().json(fcm_error(
            401,
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
        ));
    }
    let message = &body["message"];
    let data_ok = message["data"]
        .as_object()
        .is_some_and(|data| data.values().all(Value::is_string));
    let android = &message["android"];
    let ttl_ok = android["ttl"]
        .as_str()
        .and_then(|t| t.strip_suffix('s'))
        .is_some_and(|n| n.parse::<u64>().is_ok());
    let priority_ok = matches!(android["priority"].as_str(), Some("high" | "normal"));
    let Some(token) = message["token"]
        .as_str()
        .filter(|_| data_ok && ttl_ok && priority_ok)
    else {
        state
            .seen
            .lock()
            .unwrap()
            .refusals
            .push(format!("bad message {body:?}"));
        return HttpResponse::BadRequest().json(fcm_error(
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
        ));
    };
    if path.into_inner() != PROJECT {
        return HttpResponse::Forbidden().json(fcm_error(
            403,
            "PERMISSION_DENIED",
            "SENDER_ID_MISMATCH",
        ));
    }
    let unregistered = state.unregistered.lock().unwrap().contains(token);
    let answer = if unregistered {
        Answer::Status(404, None)
    } else if state.down.load(Ordering::SeqCst) {
        Answer::Status(503, None)
    } else {
        state
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Answer::Ok)
    };
    let status = match answer {
        Answer::Ok => 200,
        Answer::Status(status, _) => status,
    };
    state.seen.lock().unwrap().received.push(Received {
        token: token.to_owned(),
        data: message["data"].clone(),
        android: android.clone(),
        answered: status,
    });
    match answer {
        Answer::Ok => HttpResponse::Ok().json(
            json!({ "name": format!("projects/{PROJECT}/messages/{}", uuid::Uuid::new_v4()) }),
        ),
        Answer::Status(404, _) => {
            HttpResponse::NotFound().json(fcm_error(404, "NOT_FOUND", "UNREGISTERED"))
        }
        Answer::Status(code, retry_after) => {
            let mut answer =
                HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap());
            if let Some(seconds) = retry_after {
                answer.insert_header(("Retry-After", seconds.to_string()));
            }
            answer.json(fcm_error(code, "UNAVAILABLE", "UNAVAILABLE"))
        }
    }
}
