//! A local stand-in for the maps providers, on a free port: it plays
//! Google's Places API (New) `places:searchText`, the Geocoding API and the
//! Routes API `computeRoutes` (checking the API key and the field mask each
//! documents), and Photon (`/api`, `/reverse`) and OSRM
//! (`/route/v1/driving/…`). It answers with the fixtures a test writes,
//! records every request, and can be down (503), slow or over quota (429).

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use weelo_server::Settings;

/// The key the server is given; any other is refused as Google does.
pub const KEY: &str = "stand-in-maps-key";

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The path.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The JSON body (`null` for a GET).
    pub body: Value,
    /// `X-Goog-FieldMask`.
    pub field_mask: Option<String>,
}

struct State {
    seen: Mutex<Vec<Seen>>,
    /// 0: answer; otherwise answer every call with this status.
    failing: AtomicU16,
    delay_ms: AtomicU64,
    fixtures: Mutex<Vec<(String, Value)>>,
}

/// The running stand-in; stopped on drop.
pub struct MapsStandIn {
    /// `http://127.0.0.1:{port}`.
    pub base_url: String,
    state: Arc<State>,
    handle: ServerHandle,
}

impl MapsStandIn {
    /// Starts, answering with `fixtures` (path prefix → JSON body).
    pub async fn start(fixtures: &[(&str, Value)]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(State {
            seen: Mutex::default(),
            failing: AtomicU16::new(0),
            delay_ms: AtomicU64::new(0),
            fixtures: Mutex::new(
                fixtures
                    .iter()
                    .map(|(p, v)| ((*p).to_owned(), v.clone()))
                    .collect(),
            ),
        });
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
        Self {
            base_url,
            state,
            handle,
        }
    }

    /// Points `settings` at this stand-in as Google.
    pub fn as_google(&self, settings: &mut Settings) {
        settings.maps.provider = weelo_dispatch::places::MapsProvider::Google;
        settings.maps.google_api_key = Some(KEY.to_owned().into());
        settings.maps.google_places_url = self.base_url.clone();
        settings.maps.google_geocoding_url = self.base_url.clone();
        settings.maps.google_routes_url = self.base_url.clone();
        settings.maps.timeout_ms = 700;
    }

    /// Points `settings` at this stand-in as Photon and OSRM.
    pub fn as_open(&self, settings: &mut Settings) {
        settings.maps.provider = weelo_dispatch::places::MapsProvider::Open;
        settings.maps.geocoder_url = Some(self.base_url.clone());
        settings.maps.router_url = Some(self.base_url.clone());
        settings.maps.timeout_ms = 700;
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Answers every call with `status` (0: answer again).
    pub fn fail_with(&self, status: u16) {
        self.state.failing.store(status, Ordering::SeqCst);
    }

    /// Waits this long before answering.
    pub fn delay(&self, by: Duration) {
        self.state
            .delay_ms
            .store(u64::try_from(by.as_millis()).unwrap(), Ordering::SeqCst);
    }
}

impl Drop for MapsStandIn {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let path = req.path().to_owned();
    let query = req.query_string().to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        query: query.clone(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        field_mask: header("x-goog-fieldmask"),
    });
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let failing = state.failing.load(Ordering::SeqCst);
    if failing != 0 {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(failing).unwrap())
            .json(json!({ "error": { "code": failing, "status": "UNAVAILABLE" } }));
    }
    // Google's documented key checks: the header on Places and Routes, the
    // `key` parameter on Geocoding; a field mask is required on the first two.
    let google_new = path.starts_with("/v1/places") || path.starts_with("/directions/v2");
    if google_new
        && (header("x-goog-api-key").as_deref() != Some(KEY)
            || header("x-goog-fieldmask").is_none())
    {
        return HttpResponse::Forbidden()
            .json(json!({ "error": { "code": 403, "status": "PERMISSION_DENIED" } }));
    }
    if path.starts_with("/maps/api/geocode") && !query.contains(&format!("key={KEY}")) {
        return HttpResponse::Ok().json(json!({ "status": "REQUEST_DENIED", "results": [] }));
    }
    let fixtures = state.fixtures.lock().unwrap();
    match fixtures
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix.as_str()))
    {
        Some((_, body)) => HttpResponse::Ok().json(body),
        None => HttpResponse::NotFound().finish(),
    }
}
