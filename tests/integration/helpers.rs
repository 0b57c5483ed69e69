//! `spawn_app()` and one helper per endpoint.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::collections::HashMap;

use std::sync::Arc;

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use weelo_server::ServerHandle;
use weelo_server::{Application, DispatchJobs, Environment, Expiry, ManualClock, Settings};
use weelo_test_support::{TestDb, TestFolder, TestRedis, config_dir};

/// A running server and what it runs on; everything is torn down on drop.
pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:{port}` of the metrics listener, when configured.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub handle: ServerHandle,
    /// The server's clock: it moves only when a test advances it.
    pub clock: ManualClock,
    /// The server's expiry jobs, run by hand (their loops are off in tests).
    pub expiry: Expiry,
    /// The server's dispatch sweeper (due steps, unanswered assignments).
    pub jobs: DispatchJobs,
    pub db: TestDb,
    pub redis: TestRedis,
    /// The server's object storage folder.
    pub objects: TestFolder,
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

/// Starts the server on a fresh database and key prefix, with the test
/// settings changed by `tune`.
pub async fn spawn_tuned(tune: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let mut settings = test_settings(&db, &redis);
    tune(&mut settings);
    spawn_with(settings, db, redis).await
}

/// Starts the server with the given settings, keeping `db` and `redis` alive
/// as long as the app.
pub async fn spawn_with(mut settings: Settings, db: TestDb, redis: TestRedis) -> TestApp {
    let objects = TestFolder::new("objects").unwrap();
    if settings.storage.url.starts_with("file://") {
        settings.storage.url = objects.url();
    }
    let clock = ManualClock::starting_now();
    let application = Application::build_with(settings, Arc::new(clock.clone()))
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let handle = application.handle();
    let expiry = application.expiry();
    let jobs = application.dispatch_jobs();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        handle,
        clock,
        expiry,
        jobs,
        db,
        redis,
        objects,
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

    /// A request to `/api/v1/{path}` with an optional bearer token and body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1/{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        status_and_json(request.send().await.unwrap()).await
    }

    /// `POST /api/v1/{path}` as `token` with an `X-Idempotency-Key`.
    pub async fn post_keyed(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/{path}", self.address))
            .bearer_auth(token)
            .header("X-Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }

    /// `POST /api/v1/{path}` without a token.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, None, Some(body)).await
    }

    /// `GET /api/v1/{path}` as `token`.
    pub async fn get_as(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// The event types of a transporter's dispatch replay, oldest first.
    pub async fn replayed_event_types(&self, token: &str) -> Vec<String> {
        let (_, replay) = self
            .get_as("transporter/dispatch/replay?cursor=0", token)
            .await;
        replay["data"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventType"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Sends an OTP to `phone` for `role` and returns it (tests expose OTPs).
    pub async fn send_otp(&self, phone: &str, role: &str) -> String {
        let (status, body) = self
            .post("auth/send-otp", json!({ "phone": phone, "role": role }))
            .await;
        assert_eq!(status, StatusCode::OK, "send-otp: {body}");
        body["data"]["otp"].as_str().unwrap().to_owned()
    }

    /// Logs `phone` in as `role`; returns the whole `data` of verify-otp.
    pub async fn login(&self, phone: &str, role: &str) -> Value {
        let otp = self.send_otp(phone, role).await;
        let (status, body) = self
            .post(
                "auth/verify-otp",
                json!({ "phone": phone, "otp": otp, "role": role, "deviceId": null }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "verify-otp: {body}");
        body["data"].clone()
    }

    /// Logs in and returns the access token.
    pub async fn token(&self, phone: &str, role: &str) -> String {
        self.login(phone, role).await["tokens"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Logs an onboarded driver in (the OTP goes to its transporter; tests
    /// see it) and returns the access token.
    pub async fn driver_token(&self, phone: &str) -> String {
        let (status, body) = self
            .post("driver-auth/send-otp", json!({ "driverPhone": phone }))
            .await;
        assert_eq!(status, StatusCode::OK, "driver send-otp: {body}");
        let otp = body["data"]["otp"].as_str().unwrap().to_owned();
        let (status, body) = self
            .post(
                "driver-auth/verify-otp",
                json!({ "driverPhone": phone, "otp": otp }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "driver verify-otp: {body}");
        body["data"]["accessToken"].as_str().unwrap().to_owned()
    }

    /// Onboards a driver under the transporter holding `transporter_token`;
    /// returns the driver's `data.driver`.
    pub async fn onboard_driver(&self, transporter_token: &str, phone: &str, name: &str) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                "driver/onboard/initiate",
                Some(transporter_token),
                Some(json!({ "phone": phone, "name": name, "licenseNumber": "MH1420110012345" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "initiate: {body}");
        let otp = body["data"]["otp"].as_str().unwrap().to_owned();
        let (status, body) = self
            .call(
                Method::POST,
                "driver/onboard/verify",
                Some(transporter_token),
                Some(json!({ "phone": phone, "otp": otp })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "onboard verify: {body}");
        body["data"]["driver"].clone()
    }

    /// A second server instance on this app's database and Redis prefix.
    pub async fn sibling(&self) -> Sibling {
        let settings = test_settings(&self.db, &self.redis);
        Sibling::start(settings).await
    }

    /// `POST bookings/orders` as `token` with an idempotency key.
    pub async fn create_order(&self, token: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/bookings/orders", self.address))
            .bearer_auth(token)
            .header("X-Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }

    /// Rows of `table` (a fixed name from the test, never user input).
    pub async fn count_rows(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            count: i64,
        }
        let mut conn = self.db.connect().await.unwrap();
        let row: Count = diesel::sql_query(format!("SELECT count(*) AS count FROM {table}"))
            .get_result(&mut conn)
            .await
            .unwrap();
        row.count
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

/// A valid two-line order from Mumbai to Pune (3 trucks, Rs 72 000: above
/// the rate card at any hour, so the server keeps the offer).
pub fn order_body() -> Value {
    json!({
        "pickup": { "latitude": 19.0760, "longitude": 72.8777, "address": "Andheri East, Mumbai", "city": "Mumbai", "state": null },
        "drop": { "latitude": 18.5204, "longitude": 73.8567, "address": "Hadapsar, Pune", "city": "Pune" },
        "distanceKm": 150,
        "vehicleRequirements": [
            { "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2, "pricePerTruck": 24000 },
            { "vehicleType": "container", "vehicleSubtype": "20 Feet", "quantity": 1, "pricePerTruck": 24000 }
        ],
        "goodsType": "General"
    })
}

/// Another instance sharing a `TestApp`'s database and Redis; stopped on drop.
pub struct Sibling {
    pub address: String,
    pub handle: ServerHandle,
    /// Its object storage folder (removed when it drops).
    pub _objects: TestFolder,
}

impl Sibling {
    /// Starts an instance with `settings`.
    pub async fn start(mut settings: Settings) -> Self {
        let objects = TestFolder::new("objects").unwrap();
        settings.storage.url = objects.url();
        let clock = ManualClock::starting_now();
        let application = Application::build_with(settings, Arc::new(clock))
            .await
            .unwrap();
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        tokio::spawn(application.run_until_stopped());
        Self {
            address,
            handle,
            _objects: objects,
        }
    }

    /// `GET /api/v1/{path}` as `token` on this instance.
    pub async fn get_as(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }
}

impl Drop for Sibling {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
