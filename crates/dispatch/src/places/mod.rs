//! Places, routes and ETAs as the use cases see them: one [`Places`] in
//! front of the configured provider ([`google`], [`open`]) with a timeout,
//! a circuit breaker and answers kept in Redis, falling back to the
//! [`embedded`] provider whenever the provider is down, slow, over quota or
//! not configured. Every answer says which provider served it.
//!
//! - [`settings`]: the `[maps]` section.
//! - [`types`]: hits, addresses, routes, and how they read.
//! - [`provider`]: the trait each provider implements.
//! - [`embedded`]: the gazetteer and haversine estimates.
//! - [`google`], [`open`]: Google Maps Platform; Photon and OSRM.
//! - [`polyline`]: the encoded polyline format.
//! - [`metrics`]: calls, fallbacks, quota errors, latency.
//! - [`endpoints`]: the geocoding endpoints and the trucks' ETAs.

pub mod embedded;
pub mod endpoints;
pub mod google;
pub mod metrics;
pub mod open;
pub mod polyline;
pub mod provider;
pub mod settings;
pub mod types;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use weelo_availability::Point;
use weelo_availability::gazetteer::normalise;
use weelo_cache::Cache;

use crate::breaker::Breaker;
pub use embedded::Embedded;
pub use metrics::PlacesMetrics;
pub use provider::{PlacesProvider, ProviderError};
pub use settings::{MapsProvider, MapsSettings};
pub use types::{Address, Hit, Leg, Route, SearchQuery, Served, Source};

/// A quota answer keeps the provider quiet this long.
const QUOTA_PAUSE: Duration = Duration::from_secs(60);

/// The places capability of one instance. Cheap to clone.
#[derive(Clone)]
pub struct Places {
    provider: Option<Arc<dyn PlacesProvider>>,
    embedded: Embedded,
    cache: Cache,
    breaker: Arc<Breaker>,
    settings: Arc<MapsSettings>,
    metrics: PlacesMetrics,
    /// Keys being asked of the provider right now: concurrent misses of
    /// one key on this instance wait for the first instead of each asking.
    in_flight: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// The provider `settings` name, or `None` for the embedded one (also when
/// a real one lacks its key or URLs, which start-up refuses in a
/// deployment).
fn provider_of(settings: &MapsSettings) -> Option<Arc<dyn PlacesProvider>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.timeout_ms))
        .build()
        .ok()?;
    match settings.provider {
        MapsProvider::Embedded => None,
        MapsProvider::Google => {
            let Some(key) = settings.google_api_key.clone() else {
                tracing::error!(
                    "maps.provider = google without maps.google_api_key: embedded answers only"
                );
                return None;
            };
            Some(Arc::new(google::Google::new(
                client,
                key,
                &settings.google_places_url,
                &settings.google_geocoding_url,
                &settings.google_routes_url,
            )))
        }
        MapsProvider::Open => {
            let (Some(geocoder), Some(router)) = (&settings.geocoder_url, &settings.router_url)
            else {
                tracing::error!(
                    "maps.provider = open without maps.geocoder_url and maps.router_url: embedded answers only"
                );
                return None;
            };
            Some(Arc::new(open::Open::new(client, geocoder, router)))
        }
    }
}

impl Places {
    /// The provider `settings` choose, its answers kept in `cache`.
    pub fn new(settings: MapsSettings, cache: Cache, metrics: PlacesMetrics) -> Self {
        let settings = Arc::new(settings);
        Self {
            provider: provider_of(&settings),
            embedded: Embedded::new(settings.clone()),
            breaker: Arc::new(Breaker::new(
                settings.breaker_failures,
                Duration::from_secs(settings.breaker_open_secs),
            )),
            cache,
            settings,
            metrics,
            in_flight: Arc::default(),
        }
    }

    /// The lock of `key`'s provider call (one per key while in use).
    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Drop the locks nobody holds any more (only the map refers to them).
        if flights.len() > 256 {
            flights.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        flights.entry(key.to_owned()).or_default().clone()
    }

    async fn kept<T: DeserializeOwned>(&self, key: &str) -> Option<Served<T>> {
        let text = self.cache.get_answer(key).await.ok()??;
        serde_json::from_str(&text).ok()
    }

    /// The `[maps]` settings.
    pub fn settings(&self) -> &MapsSettings {
        &self.settings
    }

    /// The embedded provider (estimates on hot paths never wait on a
    /// network).
    pub fn embedded(&self) -> &Embedded {
        &self.embedded
    }

    /// Its metrics (registered by the caller).
    pub fn metrics(&self) -> &PlacesMetrics {
        &self.metrics
    }

    /// Who answers when all is well.
    pub fn source(&self) -> Source {
        self.provider
            .as_ref()
            .map_or(Source::Embedded, |p| p.source())
    }

    /// `GET geocoding/status`.
    pub fn status(&self) -> Value {
        json!({
            "provider": self.source().as_str(),
            "available": !self.breaker.is_open(),
            "fallback": "embedded",
            "timeoutMs": self.settings.timeout_ms,
            "cacheTtlSecs": {
                "search": self.settings.search_ttl_secs,
                "reverse": self.settings.reverse_ttl_secs,
                "route": self.settings.route_ttl_secs,
            },
        })
    }

    /// Places matching `query`.
    pub async fn search(&self, query: &SearchQuery) -> Served<Vec<Hit>> {
        let bias = query.bias.map_or_else(
            || "-".to_owned(),
            |b| format!("{:.1},{:.1}", b.latitude, b.longitude),
        );
        let text: String = normalise(&query.text).chars().take(100).collect();
        let key = format!(
            "places:s:{}:{text}:{bias}:{}",
            self.source().as_str(),
            query.limit
        );
        self.served(
            "search",
            key,
            self.settings.search_ttl_secs,
            |p| p.search(query),
            || self.embedded.search_now(query),
        )
        .await
    }

    /// The address at `point`.
    pub async fn reverse(&self, point: Point) -> Served<Option<Address>> {
        // About 100 m: three decimals of a degree.
        let key = format!(
            "places:r:{}:{:.3},{:.3}",
            self.source().as_str(),
            point.latitude,
            point.longitude
        );
        self.served(
            "reverse",
            key,
            self.settings.reverse_ttl_secs,
            |p| p.reverse(point),
            || self.embedded.reverse_now(point),
        )
        .await
        .map(|mut address| {
            // The cell's answer, for the point asked about.
            if let Some(a) = address.as_mut() {
                (a.latitude, a.longitude) = (point.latitude, point.longitude);
            }
            address
        })
    }

    /// A route through `points` (two or more) for a truck of `vehicle_type`.
    pub async fn route(&self, points: &[Point], vehicle_type: Option<&str>) -> Served<Route> {
        let path: Vec<String> = points
            .iter()
            .map(|p| format!("{:.4},{:.4}", p.latitude, p.longitude))
            .collect();
        let key = format!(
            "places:t:{}:{}:{}",
            self.source().as_str(),
            vehicle_type.unwrap_or("-"),
            path.join(";")
        );
        self.served(
            "route",
            key,
            self.settings.route_ttl_secs,
            |p| p.route(points, vehicle_type),
            || self.embedded.route_now(points, vehicle_type),
        )
        .await
    }

    /// The cached answer, the provider's, or the embedded one.
    async fn served<'a, T: Serialize + DeserializeOwned>(
        &'a self,
        op: &'static str,
        key: String,
        ttl_secs: u64,
        call: impl FnOnce(&'a dyn PlacesProvider) -> BoxFuture<'a, Result<T, ProviderError>>,
        fallback: impl FnOnce() -> T,
    ) -> Served<T> {
        let count = |outcome: &str| self.metrics.calls.with_label_values(&[op, outcome]).inc();
        let embedded = |outcome: &str| {
            count(outcome);
            Served {
                value: fallback(),
                source: Source::Embedded,
            }
        };
        let Some(provider) = self.provider.as_deref() else {
            return embedded("embedded");
        };
        if let Some(kept) = self.kept(&key).await {
            count("cache");
            return kept;
        }
        // One call per key at a time: a miss that waited finds the answer
        // the first one kept.
        let flight = self.flight(&key);
        let _turn = flight.lock().await;
        if let Some(kept) = self.kept(&key).await {
            count("cache");
            return kept;
        }
        if self.breaker.allow().is_err() {
            return embedded("fallback_breaker_open");
        }
        let started = Instant::now();
        let answer = tokio::time::timeout(
            Duration::from_millis(self.settings.timeout_ms),
            call(provider),
        )
        .await;
        self.metrics
            .latency
            .with_label_values(&[op])
            .observe(started.elapsed().as_secs_f64());
        let error = match answer {
            Ok(Ok(value)) => {
                self.breaker.succeeded();
                count("provider");
                let served = Served {
                    value,
                    source: provider.source(),
                };
                if let Ok(text) = serde_json::to_string(&served)
                    && let Err(error) = self
                        .cache
                        .put_answer(&key, &text, ttl_secs.saturating_mul(1_000))
                        .await
                {
                    tracing::warn!(%error, places.op = op, "a maps answer was not kept");
                }
                return served;
            }
            Ok(Err(error)) => error,
            Err(_) => ProviderError::Unavailable("timed out".to_owned()),
        };
        tracing::warn!(%error, places.op = op, places.provider = provider.source().as_str(), "the maps provider failed; the embedded answer is given");
        match error {
            ProviderError::Unavailable(message) => {
                self.breaker.failed();
                embedded(if message == "timed out" {
                    "fallback_timeout"
                } else {
                    "fallback_unavailable"
                })
            }
            ProviderError::Quota(_) => {
                self.breaker.pause(QUOTA_PAUSE);
                self.metrics
                    .quota_errors
                    .with_label_values(&[provider.source().as_str()])
                    .inc();
                embedded("fallback_quota")
            }
            ProviderError::Refused(_) => embedded("fallback_refused"),
        }
    }
}

impl<T> Served<T> {
    /// The same source, another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Served<U> {
        Served {
            value: f(self.value),
            source: self.source,
        }
    }
}
