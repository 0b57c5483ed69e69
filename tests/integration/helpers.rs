//! `spawn_app()` and one helper per endpoint.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::collections::HashMap;

use reqwest::{Response, StatusCode};
use serde_json::Value;
use weelo_server::ServerHandle;
use weelo_server::{Application, Environment, Settings};
use weelo_test_support::{TestDb, TestRedis, config_dir};

/// A running server and what it runs on; everything is torn down on drop.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub handle: ServerHandle,
    pub db: TestDb,
    pub redis: TestRedis,
}

/// Settings for a test: `config/test.toml`, port 0, this test's database and
/// key prefix.
pub fn test_settings(db: &TestDb, redis: &TestRedis) -> Settings {
    let mut settings = Settings::load(&config_dir(), Environment::Test, &HashMap::new()).unwrap();
    settings.database.url = db.secret_url();
    settings.redis.url = redis.url().to_owned().into();
    settings.redis.key_prefix = redis.prefix().to_owned();
    settings
}

/// Starts the server on a fresh database and key prefix.
pub async fn spawn_app() -> TestApp {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let settings = test_settings(&db, &redis);
    spawn_with(settings, db, redis).await
}

/// Starts the server with the given settings, keeping `db` and `redis` alive
/// as long as the app.
pub async fn spawn_with(settings: Settings, db: TestDb, redis: TestRedis) -> TestApp {
    let application = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    let handle = application.handle();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        handle,
        db,
        redis,
    }
}

impl TestApp {
    /// `GET {path}` (path from the root, e.g. `/api/v1/health`).
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }
}

/// The status and JSON body of a response.
pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json::<Value>().await.unwrap();
    (status, body)
}

/// Asserts the error envelope: `success: false` and the given code.
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["success"], Value::Bool(false), "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(body["error"]["message"].is_string(), "body: {body}");
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and close connections before the database goes.
        drop(self.handle.stop(false));
    }
}
