//! The `[maps]` section: which provider answers place search, reverse
//! look-up and routes, where it is, how long it may take, how long its
//! answers are kept, and the embedded estimates' road factor and speeds.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Who answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapsProvider {
    /// The embedded gazetteer and haversine estimates (no network).
    Embedded,
    /// Google Maps Platform (Places, Geocoding, Routes).
    Google,
    /// Photon for search and reverse, OSRM for routes (self-hostable).
    Open,
}

/// Maps settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapsSettings {
    /// `embedded`, `google` or `open`.
    pub provider: MapsProvider,
    /// Google's API key (`google` needs it; never logged).
    #[serde(default)]
    pub google_api_key: Option<secrecy::SecretString>,
    /// Places API (New).
    pub google_places_url: String,
    /// Geocoding API.
    pub google_geocoding_url: String,
    /// Routes API.
    pub google_routes_url: String,
    /// Photon (`open`).
    #[serde(default)]
    pub geocoder_url: Option<String>,
    /// OSRM (`open`).
    #[serde(default)]
    pub router_url: Option<String>,
    /// One provider call may take this long before the embedded answer
    /// is given instead.
    pub timeout_ms: u64,
    /// Failures in a row that open the breaker.
    pub breaker_failures: u32,
    /// How long an open breaker sends nothing.
    pub breaker_open_secs: u64,
    /// How long a search answer is kept.
    pub search_ttl_secs: u64,
    /// How long a reverse answer is kept.
    pub reverse_ttl_secs: u64,
    /// How long a route is kept.
    pub route_ttl_secs: u64,
    /// Calls of the geocoding endpoints per user per minute.
    pub calls_per_minute: u32,
    /// Road distance over straight-line distance, for the estimates.
    pub road_factor: f64,
    /// Average truck speeds, km/h, by vehicle type; `default` for others.
    pub speeds_kmh: BTreeMap<String, f64>,
    /// `driver_approaching` when the truck is this close to the pickup…
    pub approaching_within_m: f64,
    /// …or its ETA is under this.
    pub approaching_within_secs: f64,
}

impl MapsSettings {
    /// The speed a truck of `vehicle_type` is estimated at, km/h.
    pub fn speed_kmh(&self, vehicle_type: Option<&str>) -> f64 {
        vehicle_type
            .and_then(|t| self.speeds_kmh.get(t))
            .or_else(|| self.speeds_kmh.get("default"))
            .copied()
            .filter(|s| s.is_finite() && *s > 1.0)
            .unwrap_or(30.0)
    }

    /// The estimated drive, seconds, over `straight_m` metres as the crow
    /// flies.
    pub fn estimate_secs(&self, straight_m: f64, vehicle_type: Option<&str>) -> f64 {
        straight_m * self.road_factor / (self.speed_kmh(vehicle_type) / 3.6)
    }
}
