//! Firebase Cloud Messaging, HTTP v1, as Google documents it: a JWT signed
//! (RS256) with the service account's private key is exchanged at the
//! account's `token_uri` for an OAuth2 access token (scope
//! `firebase.messaging`), kept until shortly before it expires; each push
//! is a `POST {base}/v1/projects/{project}/messages:send` of a data
//! message. Answers are sorted into [`Sent`]: `UNREGISTERED` and a bad
//! token delete the token, 429 and 5xx are retried (honouring
//! `Retry-After`), a run of failures opens the [`Breaker`].

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::BoxFuture;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::sender::{PushSender, Sent};
use crate::breaker::Breaker;
use crate::events::push::PushMessage;

/// The OAuth2 scope of `messages:send`.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// How long an access token is asked for (Google's maximum).
const TOKEN_LIFETIME_SECS: u64 = 3600;
/// An access token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Why the sender could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FcmSetupError {
    /// The credentials file could not be read.
    #[error("push.fcm_credentials_file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a service account's JSON.
    #[error("push.fcm_credentials_file is not a service account's JSON: {0}")]
    Parse(#[from] serde_json::Error),
    /// Its private key does not load.
    #[error("push.fcm_credentials_file: the private key does not load: {0}")]
    Key(#[from] openssl::error::ErrorStack),
    /// The HTTP client could not be built.
    #[error("the push HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A service account's key file, the fields FCM needs.
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    token_uri: String,
}

struct AccessToken {
    value: String,
    renew_at: Instant,
}

/// Sends pushes through FCM HTTP v1.
pub struct FcmSender {
    client: reqwest::Client,
    client_email: String,
    key_id: Option<String>,
    key: PKey<Private>,
    token_uri: String,
    send_url: String,
    token: tokio::sync::Mutex<Option<AccessToken>>,
    breaker: Breaker,
}

impl std::fmt::Debug for FcmSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmSender")
            .field("send_url", &self.send_url)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl FcmSender {
    /// A sender with the service account in `credentials`, sending to
    /// `base_url`, each call bounded by `timeout`, behind `breaker`.
    pub fn from_file(
        credentials: &Path,
        base_url: &str,
        timeout: Duration,
        breaker: Breaker,
    ) -> Result<Self, FcmSetupError> {
        let text = std::fs::read_to_string(credentials).map_err(|source| FcmSetupError::Read {
            path: credentials.display().to_string(),
            source,
        })?;
        let account: ServiceAccount = serde_json::from_str(&text)?;
        let key = PKey::private_key_from_pem(account.private_key.as_bytes())?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            send_url: format!(
                "{}/v1/projects/{}/messages:send",
                base_url.trim_end_matches('/'),
                account.project_id
            ),
            client_email: account.client_email,
            key_id: account.private_key_id,
            key,
            token_uri: account.token_uri,
            token: tokio::sync::Mutex::new(None),
            breaker,
        })
    }

    /// The signed assertion the token endpoint exchanges.
    fn assertion(&self) -> Result<String, openssl::error::ErrorStack> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let mut header = json!({ "alg": "RS256", "typ": "JWT" });
        if let Some(kid) = &self.key_id {
            header["kid"] = Value::from(kid.as_str());
        }
        let claims = json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(signing_input.as_bytes())?;
        let signature = signer.sign_to_vec()?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The cached access token, or a new one from the token endpoint.
    async fn access_token(&self) -> Result<String, Sent> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.renew_at > Instant::now()) {
            return Ok(token.value.clone());
        }
        let assertion = self.assertion().map_err(|error| {
            tracing::error!(error = %error, "push: could not sign the FCM assertion");
            Sent::Retry { after: None }
        })?;
        // The assertion is base64url and dots: nothing in it needs escaping.
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let response = self
            .client
            .post(&self.token_uri)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|error| self.transport_failure(&error))?;
        let status = response.status();
        if !status.is_success() {
            let detail = response.text().await.unwrap_or_default();
            tracing::warn!(http.status = status.as_u16(), detail = %truncate(&detail), "push: the FCM token endpoint refused");
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                self.breaker.failed();
            }
            return Err(Sent::Retry { after: None });
        }
        #[derive(Deserialize)]
        struct Granted {
            access_token: String,
            expires_in: u64,
        }
        let granted: Granted = response.json().await.map_err(|error| {
            tracing::warn!(error = %error, "push: the FCM token endpoint's answer does not parse");
            Sent::Retry { after: None }
        })?;
        let lifetime = Duration::from_secs(granted.expires_in).saturating_sub(RENEW_BEFORE);
        *cached = Some(AccessToken {
            value: granted.access_token.clone(),
            renew_at: Instant::now() + lifetime,
        });
        Ok(granted.access_token)
    }

    fn transport_failure(&self, error: &reqwest::Error) -> Sent {
        tracing::warn!(error = %error, timeout = error.is_timeout(), "push: FCM unreachable");
        self.breaker.failed();
        Sent::Retry { after: None }
    }

    async fn send_now(&self, token: &str, message: &PushMessage) -> Sent {
        if let Err(wait) = self.breaker.allow() {
            return Sent::Retry { after: Some(wait) };
        }
        let access = match self.access_token().await {
            Ok(access) => access,
            Err(sent) => return sent,
        };
        let body = json!({
            "message": {
                "token": token,
                "data": message.data,
                "android": {
                    "priority": message.priority.as_str(),
                    "ttl": format!("{}s", message.ttl.as_secs()),
                },
            }
        });
        let response = match self
            .client
            .post(&self.send_url)
            .bearer_auth(access)
            .json(&body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return self.transport_failure(&error),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if status.is_success() {
            self.breaker.succeeded();
            return Sent::Delivered;
        }
        let detail = response.text().await.unwrap_or_default();
        let sent = classify(status, retry_after, &detail);
        match &sent {
            Sent::Retry { after } if status == StatusCode::TOO_MANY_REQUESTS => {
                self.breaker.pause(after.unwrap_or(Duration::from_secs(1)));
            }
            Sent::Retry { .. } if status == StatusCode::UNAUTHORIZED => {
                // The access token was refused: fetch another next time.
                *self.token.lock().await = None;
            }
            Sent::Retry { .. } => self.breaker.failed(),
            _ => self.breaker.succeeded(),
        }
        if !matches!(sent, Sent::Retry { .. }) {
            tracing::debug!(http.status = status.as_u16(), detail = %truncate(&detail), "push: FCM refused a message");
        }
        sent
    }
}

impl PushSender for FcmSender {
    fn name(&self) -> &'static str {
        "fcm"
    }

    fn send<'a>(&'a self, token: &'a str, message: &'a PushMessage) -> BoxFuture<'a, Sent> {
        Box::pin(self.send_now(token, message))
    }
}

/// What a refused `messages:send` means (FCM's `FcmError.errorCode` in the
/// error's details, else its status).
pub fn classify(status: StatusCode, retry_after: Option<Duration>, body: &str) -> Sent {
    let error = serde_json::from_str::<Value>(body).unwrap_or(Value::Null);
    let error = &error["error"];
    let details = error["details"].as_array().cloned().unwrap_or_default();
    let fcm_code = details
        .iter()
        .find_map(|d| d["errorCode"].as_str())
        .or_else(|| error["status"].as_str())
        .unwrap_or("");
    let about_the_token = details.iter().any(|d| {
        d["fieldViolations"]
            .as_array()
            .is_some_and(|v| v.iter().any(|f| f["field"] == "message.token"))
    }) || error["message"]
        .as_str()
        .is_some_and(|m| m.to_ascii_lowercase().contains("registration token"));
    match (status.as_u16(), fcm_code) {
        (_, "UNREGISTERED" | "SENDER_ID_MISMATCH") => Sent::TokenGone,
        (400, "INVALID_ARGUMENT") if about_the_token => Sent::TokenGone,
        (401, _) => Sent::Retry { after: None },
        (429, _) | (500..=599, _) => Sent::Retry { after: retry_after },
        (code, word) => Sent::Failed(format!("{code} {word}")),
    }
}

fn truncate(text: &str) -> &str {
    let end = text
        .char_indices()
        .nth(300)
        .map_or(text.len(), |(at, _)| at);
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fcm_error(code: u16, status: &str, error_code: &str) -> String {
        json!({ "error": { "code": code, "message": "x", "status": status, "details": [
            { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code }
        ] } })
        .to_string()
    }

    #[test]
    fn fcm_answers_are_sorted_as_documented() {
        let unregistered = fcm_error(404, "NOT_FOUND", "UNREGISTERED");
        assert_eq!(
            classify(StatusCode::NOT_FOUND, None, &unregistered),
            Sent::TokenGone
        );
        let bad_token = json!({ "error": { "code": 400, "status": "INVALID_ARGUMENT",
            "message": "The registration token is not a valid FCM registration token",
            "details": [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT" }] } })
        .to_string();
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, None, &bad_token),
            Sent::TokenGone
        );
        let bad_payload = json!({ "error": { "code": 400, "status": "INVALID_ARGUMENT",
            "message": "Invalid value at 'message.data'",
            "details": [{ "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{ "field": "message.data", "description": "x" }] }] } })
        .to_string();
        assert!(
            matches!(
                classify(StatusCode::BAD_REQUEST, None, &bad_payload),
                Sent::Failed(_)
            ),
            "a bad message keeps the token"
        );
        let wait = Some(Duration::from_secs(9));
        let busy = fcm_error(503, "UNAVAILABLE", "UNAVAILABLE");
        assert_eq!(
            classify(StatusCode::SERVICE_UNAVAILABLE, wait, &busy),
            Sent::Retry { after: wait }
        );
        let quota = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED");
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, None, &quota),
            Sent::Retry { after: None }
        );
        assert_eq!(
            classify(StatusCode::BAD_GATEWAY, None, "<html>"),
            Sent::Retry { after: None }
        );
    }
}
