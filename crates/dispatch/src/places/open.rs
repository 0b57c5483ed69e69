//! Self-hostable open services: Photon (`/api` search, `/reverse`) over
//! OpenStreetMap data, and OSRM (`/route/v1/driving/…`) for routes. Both
//! answer without a key; an operator runs them for a fixed cost.

use futures_util::future::{BoxFuture, FutureExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use weelo_availability::Point;

use super::polyline;
use super::provider::{PlacesProvider, ProviderError, from_status, from_transport};
use super::types::{Address, Hit, Leg, Route, SearchQuery, Source};

/// Photon and OSRM.
pub struct Open {
    client: reqwest::Client,
    geocoder_url: String,
    router_url: String,
}

impl Open {
    /// Photon at `geocoder_url`, OSRM at `router_url`.
    pub fn new(client: reqwest::Client, geocoder_url: &str, router_url: &str) -> Self {
        Self {
            client,
            geocoder_url: geocoder_url.trim_end_matches('/').to_owned(),
            router_url: router_url.trim_end_matches('/').to_owned(),
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        url: String,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, ProviderError> {
        let response = self
            .client
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(|e| from_transport(&e, what))?;
        if !response.status().is_success() {
            return Err(from_status(response.status(), what));
        }
        response
            .json()
            .await
            .map_err(|e| ProviderError::Refused(format!("{what}: {e}")))
    }

    async fn photon_search(&self, query: &SearchQuery) -> Result<Vec<Hit>, ProviderError> {
        let mut params = vec![
            ("q", query.text.clone()),
            ("limit", query.limit.to_string()),
            ("lang", "en".to_owned()),
        ];
        if let Some(bias) = query.bias {
            params.push(("lat", bias.latitude.to_string()));
            params.push(("lon", bias.longitude.to_string()));
        }
        let answer: Features = self
            .get(format!("{}/api", self.geocoder_url), &params, "photon")
            .await?;
        Ok(answer
            .features
            .into_iter()
            .take(query.limit)
            .map(Feature::hit)
            .collect())
    }

    async fn photon_reverse(&self, point: Point) -> Result<Option<Address>, ProviderError> {
        let answer: Features = self
            .get(
                format!("{}/reverse", self.geocoder_url),
                &[
                    ("lat", point.latitude.to_string()),
                    ("lon", point.longitude.to_string()),
                    ("lang", "en".to_owned()),
                ],
                "photon",
            )
            .await?;
        Ok(answer.features.into_iter().next().map(|feature| {
            let p = &feature.properties;
            Address {
                latitude: point.latitude,
                longitude: point.longitude,
                address: feature.label(),
                city: p.city.clone(),
                district: p.county.clone().or_else(|| p.district.clone()),
                state: p.state.clone(),
                country: p.country.clone(),
                postal_code: p.postcode.clone(),
            }
        }))
    }

    async fn osrm_route(&self, points: &[Point]) -> Result<Route, ProviderError> {
        let path = points
            .iter()
            .map(|p| format!("{:.6},{:.6}", p.longitude, p.latitude))
            .collect::<Vec<_>>()
            .join(";");
        let answer: OsrmAnswer = self
            .get(
                format!("{}/route/v1/driving/{path}", self.router_url),
                &[
                    ("overview", "full".to_owned()),
                    ("geometries", "polyline".to_owned()),
                    ("steps", "false".to_owned()),
                ],
                "osrm",
            )
            .await?;
        if answer.code != "Ok" {
            return Err(ProviderError::Refused(format!("osrm: {}", answer.code)));
        }
        let route = answer
            .routes
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Refused("osrm: no route".into()))?;
        Ok(Route {
            distance_m: route.distance,
            duration_s: route.duration,
            polyline: polyline::decode(&route.geometry),
            legs: route
                .legs
                .iter()
                .map(|leg| Leg {
                    distance_m: leg.distance,
                    duration_s: leg.duration,
                })
                .collect(),
        })
    }
}

impl PlacesProvider for Open {
    fn source(&self) -> Source {
        Source::Open
    }

    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<Vec<Hit>, ProviderError>> {
        self.photon_search(query).boxed()
    }

    fn reverse(&self, point: Point) -> BoxFuture<'_, Result<Option<Address>, ProviderError>> {
        self.photon_reverse(point).boxed()
    }

    fn route<'a>(
        &'a self,
        points: &'a [Point],
        _vehicle_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Route, ProviderError>> {
        self.osrm_route(points).boxed()
    }
}

#[derive(Deserialize)]
struct Features {
    #[serde(default)]
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    geometry: Geometry,
    properties: Properties,
}

#[derive(Deserialize)]
struct Geometry {
    /// `[longitude, latitude]`.
    coordinates: [f64; 2],
}

#[derive(Deserialize, Default)]
struct Properties {
    osm_type: Option<String>,
    osm_id: Option<i64>,
    name: Option<String>,
    street: Option<String>,
    housenumber: Option<String>,
    city: Option<String>,
    district: Option<String>,
    county: Option<String>,
    state: Option<String>,
    country: Option<String>,
    postcode: Option<String>,
}

impl Feature {
    fn label(&self) -> String {
        let p = &self.properties;
        let street = match (&p.housenumber, &p.street) {
            (Some(n), Some(s)) => Some(format!("{n} {s}")),
            (None, Some(s)) => Some(s.clone()),
            _ => None,
        };
        [
            p.name.clone(),
            street,
            p.district.clone(),
            p.city.clone(),
            p.state.clone(),
        ]
        .into_iter()
        .flatten()
        .fold(Vec::<String>::new(), |mut parts, part| {
            if !parts.contains(&part) {
                parts.push(part);
            }
            parts
        })
        .join(", ")
    }

    fn hit(self) -> Hit {
        let label = self.label();
        let p = self.properties;
        Hit {
            place_id: format!(
                "osm:{}{}",
                p.osm_type.as_deref().unwrap_or("X"),
                p.osm_id.unwrap_or(0)
            ),
            label: p.name.clone().unwrap_or_else(|| label.clone()),
            address: Some(label),
            city: p.city,
            district: p.county.or(p.district),
            state: p.state,
            latitude: self.geometry.coordinates[1],
            longitude: self.geometry.coordinates[0],
        }
    }
}

#[derive(Deserialize)]
struct OsrmAnswer {
    code: String,
    #[serde(default)]
    routes: Vec<OsrmRoute>,
}

#[derive(Deserialize)]
struct OsrmRoute {
    distance: f64,
    duration: f64,
    geometry: String,
    #[serde(default)]
    legs: Vec<OsrmLeg>,
}

#[derive(Deserialize)]
struct OsrmLeg {
    distance: f64,
    duration: f64,
}
