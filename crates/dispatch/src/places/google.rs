//! Google Maps Platform: Places API (New) Text Search for search, the
//! Geocoding API for reverse look-up, the Routes API `computeRoutes` for
//! routes. The key goes in `X-Goog-Api-Key` (Places, Routes) or `key`
//! (Geocoding) and is never logged.
//!
//! Routes has no truck mode; `DRIVE` without traffic is asked for, which
//! keeps answers cacheable. Quota answers (429, `OVER_QUERY_LIMIT`) are
//! told apart so they are counted.

use futures_util::future::{BoxFuture, FutureExt};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use weelo_availability::Point;

use super::polyline;
use super::provider::{PlacesProvider, ProviderError, from_status, from_transport};
use super::types::{Address, Hit, Leg, Route, SearchQuery, Source};

/// Search results are biased to this radius around the caller, metres.
const BIAS_RADIUS_M: f64 = 50_000.0;

/// The three web services.
pub struct Google {
    client: reqwest::Client,
    key: SecretString,
    places_url: String,
    geocoding_url: String,
    routes_url: String,
}

impl Google {
    /// Google with `key` at the three base URLs.
    pub fn new(
        client: reqwest::Client,
        key: SecretString,
        places_url: &str,
        geocoding_url: &str,
        routes_url: &str,
    ) -> Self {
        let trim = |u: &str| u.trim_end_matches('/').to_owned();
        Self {
            client,
            key,
            places_url: trim(places_url),
            geocoding_url: trim(geocoding_url),
            routes_url: trim(routes_url),
        }
    }

    async fn post(&self, url: String, mask: &str, body: Value) -> Result<Value, ProviderError> {
        let response = self
            .client
            .post(url)
            .header("X-Goog-Api-Key", self.key.expose_secret())
            .header("X-Goog-FieldMask", mask)
            .json(&body)
            .send()
            .await
            .map_err(|e| from_transport(&e, "google"))?;
        if !response.status().is_success() {
            return Err(from_status(response.status(), "google"));
        }
        response
            .json()
            .await
            .map_err(|e| ProviderError::Refused(format!("google: {e}")))
    }

    async fn search_text(&self, query: &SearchQuery) -> Result<Vec<Hit>, ProviderError> {
        let mut body = json!({
            "textQuery": query.text,
            "maxResultCount": query.limit,
            "regionCode": "IN",
            "languageCode": "en",
        });
        if let Some(bias) = query.bias {
            body["locationBias"] = json!({ "circle": {
                "center": { "latitude": bias.latitude, "longitude": bias.longitude },
                "radius": BIAS_RADIUS_M,
            }});
        }
        let answer: PlacesAnswer = serde_json::from_value(
            self.post(
                format!("{}/v1/places:searchText", self.places_url),
                "places.id,places.displayName,places.formattedAddress,places.location,places.addressComponents",
                body,
            )
            .await?,
        )
        .map_err(|e| ProviderError::Refused(format!("google places: {e}")))?;
        Ok(answer
            .places
            .into_iter()
            .take(query.limit)
            .map(|place| {
                let part = |kind: &str| component(&place.address_components, kind);
                Hit {
                    place_id: place.id,
                    label: place
                        .display_name
                        .map(|n| n.text)
                        .unwrap_or_else(|| place.formatted_address.clone().unwrap_or_default()),
                    address: place.formatted_address.clone(),
                    city: part("locality"),
                    district: part("administrative_area_level_3"),
                    state: part("administrative_area_level_1"),
                    latitude: place.location.latitude,
                    longitude: place.location.longitude,
                }
            })
            .collect())
    }

    async fn geocode(&self, point: Point) -> Result<Option<Address>, ProviderError> {
        let response = self
            .client
            .get(format!("{}/maps/api/geocode/json", self.geocoding_url))
            .query(&[
                (
                    "latlng",
                    format!("{},{}", point.latitude, point.longitude).as_str(),
                ),
                ("language", "en"),
                ("key", self.key.expose_secret()),
            ])
            .send()
            .await
            .map_err(|e| from_transport(&e, "google geocoding"))?;
        if !response.status().is_success() {
            return Err(from_status(response.status(), "google geocoding"));
        }
        let answer: GeocodeAnswer = response
            .json()
            .await
            .map_err(|e| ProviderError::Refused(format!("google geocoding: {e}")))?;
        match answer.status.as_str() {
            "OK" => {}
            "ZERO_RESULTS" => return Ok(None),
            "OVER_QUERY_LIMIT" | "OVER_DAILY_LIMIT" => {
                return Err(ProviderError::Quota(answer.status));
            }
            "UNKNOWN_ERROR" => return Err(ProviderError::Unavailable(answer.status)),
            other => return Err(ProviderError::Refused(other.to_owned())),
        }
        Ok(answer.results.into_iter().next().map(|result| {
            let part = |kind: &str| {
                result
                    .address_components
                    .iter()
                    .find(|c| c.types.iter().any(|t| t == kind))
                    .map(|c| c.long_name.clone())
            };
            Address {
                latitude: point.latitude,
                longitude: point.longitude,
                address: result.formatted_address.clone(),
                city: part("locality"),
                district: part("administrative_area_level_3"),
                state: part("administrative_area_level_1"),
                country: part("country"),
                postal_code: part("postal_code"),
            }
        }))
    }

    async fn compute_route(&self, points: &[Point]) -> Result<Route, ProviderError> {
        let waypoint = |p: &Point| json!({ "location": { "latLng": { "latitude": p.latitude, "longitude": p.longitude } } });
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Err(ProviderError::Refused("a route needs two points".into()));
        };
        let inner = &points[1..points.len() - 1];
        let answer: RoutesAnswer = serde_json::from_value(
            self.post(
                format!("{}/directions/v2:computeRoutes", self.routes_url),
                "routes.distanceMeters,routes.duration,routes.polyline.encodedPolyline,routes.legs.distanceMeters,routes.legs.duration",
                json!({
                    "origin": waypoint(first),
                    "destination": waypoint(last),
                    "intermediates": inner.iter().map(waypoint).collect::<Vec<_>>(),
                    "travelMode": "DRIVE",
                    "routingPreference": "TRAFFIC_UNAWARE",
                    "polylineEncoding": "ENCODED_POLYLINE",
                    "units": "METRIC",
                }),
            )
            .await?,
        )
        .map_err(|e| ProviderError::Refused(format!("google routes: {e}")))?;
        let route = answer
            .routes
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Refused("google routes: no route".into()))?;
        Ok(Route {
            distance_m: route.distance_meters,
            duration_s: seconds(&route.duration),
            polyline: polyline::decode(&route.polyline.encoded_polyline),
            legs: route
                .legs
                .iter()
                .map(|leg| Leg {
                    distance_m: leg.distance_meters,
                    duration_s: seconds(&leg.duration),
                })
                .collect(),
        })
    }
}

/// `"1234s"` → 1234.
fn seconds(duration: &str) -> f64 {
    duration.trim_end_matches('s').parse().unwrap_or(0.0)
}

fn component(components: &[PlaceComponent], kind: &str) -> Option<String> {
    components
        .iter()
        .find(|c| c.types.iter().any(|t| t == kind))
        .map(|c| c.long_text.clone())
}

impl PlacesProvider for Google {
    fn source(&self) -> Source {
        Source::Google
    }

    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<Vec<Hit>, ProviderError>> {
        self.search_text(query).boxed()
    }

    fn reverse(&self, point: Point) -> BoxFuture<'_, Result<Option<Address>, ProviderError>> {
        self.geocode(point).boxed()
    }

    fn route<'a>(
        &'a self,
        points: &'a [Point],
        _vehicle_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Route, ProviderError>> {
        self.compute_route(points).boxed()
    }
}

#[derive(Deserialize)]
struct PlacesAnswer {
    #[serde(default)]
    places: Vec<PlaceResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceResult {
    id: String,
    display_name: Option<LocalizedText>,
    formatted_address: Option<String>,
    location: LatLng,
    #[serde(default)]
    address_components: Vec<PlaceComponent>,
}

#[derive(Deserialize)]
struct LocalizedText {
    text: String,
}

#[derive(Deserialize)]
struct LatLng {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceComponent {
    long_text: String,
    #[serde(default)]
    types: Vec<String>,
}

#[derive(Deserialize)]
struct GeocodeAnswer {
    status: String,
    #[serde(default)]
    results: Vec<GeocodeResult>,
}

#[derive(Deserialize)]
struct GeocodeResult {
    formatted_address: String,
    #[serde(default)]
    address_components: Vec<GeocodeComponent>,
}

#[derive(Deserialize)]
struct GeocodeComponent {
    long_name: String,
    #[serde(default)]
    types: Vec<String>,
}

#[derive(Deserialize)]
struct RoutesAnswer {
    #[serde(default)]
    routes: Vec<RouteResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteResult {
    #[serde(default)]
    distance_meters: f64,
    #[serde(default)]
    duration: String,
    polyline: EncodedPolyline,
    #[serde(default)]
    legs: Vec<RouteLeg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EncodedPolyline {
    encoded_polyline: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteLeg {
    #[serde(default)]
    distance_meters: f64,
    #[serde(default)]
    duration: String,
}
