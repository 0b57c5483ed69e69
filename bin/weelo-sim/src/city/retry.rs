//! The captain app's HTTP retries, which the simulated transporters and
//! drivers make as the app does: up to three attempts on a 5xx or an I/O
//! error, waiting 1 s and then 2 s (any method; docs/app-contract.md). A
//! server outage then shows in the report as retries and recovery time,
//! not as trips the drivers abandoned.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::metrics::{Answer, Api};

/// The waits between the captain app's attempts.
pub const APP_WAITS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

/// Retries and what came of them.
#[derive(Default)]
pub struct Retries {
    retried: Mutex<HashMap<&'static str, u64>>,
    gave_up: Mutex<HashMap<&'static str, u64>>,
    recovered: Mutex<Vec<Duration>>,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Retries {
    /// Retries per route, calls given up per route, and how long each
    /// recovered call took from its first failure.
    pub fn snapshot(
        &self,
    ) -> (
        HashMap<&'static str, u64>,
        HashMap<&'static str, u64>,
        Vec<Duration>,
    ) {
        (
            locked(&self.retried).clone(),
            locked(&self.gave_up).clone(),
            locked(&self.recovered).clone(),
        )
    }

    /// The report's `retries` block.
    pub fn report(&self, summary: impl Fn(Vec<Duration>) -> Value) -> Value {
        let (retried, gave_up, recovered) = self.snapshot();
        json!({
            "byRoute": retried.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "gaveUp": gave_up.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "recovered": recovered.len(),
            "recoveryTime": summary(recovered),
        })
    }
}

impl Api {
    /// [`Api::call`] with the captain app's retries.
    pub async fn call_as_app(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> anyhow::Result<Answer> {
        self.call_retrying(&APP_WAITS, route, method, path, token, body, key)
            .await
    }

    /// [`Api::call`], retried after each of `waits` on a 5xx or an I/O
    /// error.
    #[expect(
        clippy::too_many_arguments,
        reason = "a call's parts, as Api::call takes them"
    )]
    pub async fn call_retrying(
        &self,
        waits: &[Duration],
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let retries = &self.metrics().retries;
        let mut first_failure: Option<Instant> = None;
        let mut waits = waits.iter();
        loop {
            let outcome = self
                .call(route, method.clone(), path, token, body, key)
                .await;
            let failed = match &outcome {
                Ok((status, _)) => status.is_server_error(),
                Err(_) => true,
            };
            if !failed {
                if let Some(at) = first_failure {
                    locked(&retries.recovered).push(at.elapsed());
                }
                return outcome;
            }
            first_failure.get_or_insert_with(Instant::now);
            let Some(wait) = waits.next() else {
                *locked(&retries.gave_up).entry(route).or_insert(0) += 1;
                return outcome;
            };
            *locked(&retries.retried).entry(route).or_insert(0) += 1;
            tokio::time::sleep(*wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::city::metrics::Metrics;

    /// A server answering `statuses` in turn, one per connection.
    async fn server(statuses: Vec<u16>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        tokio::spawn(async move {
            for status in statuses {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let body = r#"{"success":true,"data":{}}"#;
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn a_5xx_is_retried_until_it_recovers_and_counted() {
        let base = server(vec![503, 502, 200]).await;
        let metrics = Arc::new(Metrics::new());
        let api = Api::new(&base, metrics.clone()).unwrap_or_else(|e| panic!("{e}"));
        let waits = [Duration::ZERO, Duration::ZERO];
        let answer = api
            .call_retrying(&waits, "x", Method::PUT, "x", None, None, None)
            .await
            .map(|(status, _)| status.as_u16());
        assert_eq!(answer.ok(), Some(200));
        let (retried, gave_up, recovered) = metrics.retries.snapshot();
        assert_eq!(retried.get("x"), Some(&2));
        assert!(gave_up.is_empty());
        assert_eq!(recovered.len(), 1);
    }

    #[tokio::test]
    async fn the_app_gives_up_after_its_third_attempt() {
        let base = server(vec![503, 503, 503, 200]).await;
        let metrics = Arc::new(Metrics::new());
        let api = Api::new(&base, metrics.clone()).unwrap_or_else(|e| panic!("{e}"));
        let waits = [Duration::ZERO, Duration::ZERO];
        let answer = api
            .call_retrying(&waits, "x", Method::PUT, "x", None, None, None)
            .await
            .map(|(status, _)| status.as_u16());
        assert_eq!(answer.ok(), Some(503), "three attempts, as the app makes");
        let (retried, gave_up, recovered) = metrics.retries.snapshot();
        assert_eq!((retried.get("x"), gave_up.get("x")), (Some(&2), Some(&1)));
        assert!(recovered.is_empty());
        assert_eq!(APP_WAITS.len() + 1, 3);
    }
}
