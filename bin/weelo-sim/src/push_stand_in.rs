//! `--push-stand-in`: a local stand-in for FCM HTTP v1 that the spawned
//! server pushes to, so a run shows pushes end to end on a machine with no
//! Google account. It plays the service account's token endpoint and
//! `messages:send` (HTTP/1.1 with keep-alive, on a free port), hands each
//! push to the simulated phone whose device token it names, and measures
//! how long after the commit each push arrived (`assignedAt` of a
//! `trip_assigned`, `serverTimeMs` of a `new_broadcast`). It checks no
//! signature: the server's tests do that against their own stand-in.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

type Routes = HashMap<String, mpsc::UnboundedSender<Value>>;

#[derive(Default)]
struct Shared {
    routes: Mutex<Routes>,
    latencies: Mutex<Vec<Duration>>,
    received: AtomicU64,
}

/// The running stand-in.
pub struct PushStandIn {
    /// `http://127.0.0.1:{port}`.
    pub url: String,
    /// The service-account file the server is given.
    pub credentials: PathBuf,
    shared: Arc<Shared>,
}

impl PushStandIn {
    /// Writes a service account (a fresh RSA key) and starts serving.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048)?)?;
        let credentials =
            std::env::temp_dir().join(format!("weelo-sim-fcm-{}.json", std::process::id()));
        let account = json!({
            "type": "service_account",
            "project_id": "weelo-sim",
            "private_key": String::from_utf8(key.private_key_to_pem_pkcs8()?)?,
            "client_email": "push@weelo-sim.iam.gserviceaccount.com",
            "token_uri": format!("{url}/token"),
        });
        std::fs::write(&credentials, account.to_string()).context("writing the credentials")?;
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        Ok(Self {
            url,
            credentials,
            shared,
        })
    }

    /// The settings that point a server here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("APP_PUSH__PROVIDER", "fcm".to_owned()),
            (
                "APP_PUSH__FCM_CREDENTIALS_FILE",
                self.credentials.display().to_string(),
            ),
            ("APP_PUSH__FCM_BASE_URL", self.url.clone()),
        ]
    }

    /// The pushes sent to `device_token` from now on (its `data`).
    pub fn route(&self, device_token: &str) -> mpsc::UnboundedReceiver<Value> {
        let (sender, pushes) = mpsc::unbounded_channel();
        lock(&self.shared.routes).insert(device_token.to_owned(), sender);
        pushes
    }

    /// Pushes received.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// Commit → arrival of every push that says when it was committed.
    pub fn latencies(&self) -> Vec<Duration> {
        lock(&self.shared.latencies).clone()
    }
}

impl Drop for PushStandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.credentials);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection: requests until the client closes it.
async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if read.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if read.read_exact(&mut body).await.is_err() {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("");
        let answer = if path == "/token" {
            json!({ "access_token": "ya29.weelo-sim", "expires_in": 3599, "token_type": "Bearer" })
        } else {
            received(&shared, &body);
            json!({ "name": "projects/weelo-sim/messages/1" })
        }
        .to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// A `messages:send`: measured and handed to its phone.
fn received(shared: &Shared, body: &[u8]) {
    let Ok(sent) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let message = &sent["message"];
    let data = message["data"].clone();
    shared.received.fetch_add(1, Ordering::Relaxed);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let committed_ms = match data["type"].as_str() {
        Some("trip_assigned") => data["assignedAt"]
            .as_str()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.timestamp_millis()),
        Some("new_broadcast") => data["serverTimeMs"].as_str().and_then(|ms| ms.parse().ok()),
        _ => None,
    };
    if let Some(committed_ms) = committed_ms {
        let waited = u64::try_from(now_ms - committed_ms).unwrap_or(0);
        lock(&shared.latencies).push(Duration::from_millis(waited));
    }
    if let Some(token) = message["token"].as_str()
        && let Some(phone) = lock(&shared.routes).get(token)
    {
        let _ = phone.send(data);
    }
}
