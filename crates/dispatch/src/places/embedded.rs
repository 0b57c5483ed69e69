//! The embedded provider: search and reverse from the gazetteer of India,
//! routes and ETAs from straight-line distance times a road factor at a
//! truck's average speed. It needs nothing configured and never fails, so
//! it is also what every other provider falls back to.

use std::sync::Arc;

use futures_util::future::{BoxFuture, FutureExt};
use weelo_availability::Point;
use weelo_availability::gazetteer::{Found, Gazetteer};
use weelo_availability::geo::haversine_m;

use super::provider::{PlacesProvider, ProviderError};
use super::settings::MapsSettings;
use super::types::{Address, Hit, Leg, Route, SearchQuery, Source};

/// Further than this from any place, reverse look-up names no town.
const NEAR_A_PLACE_M: f64 = 50_000.0;

/// The gazetteer and the estimates.
#[derive(Debug, Clone)]
pub struct Embedded {
    gazetteer: &'static Gazetteer,
    settings: Arc<MapsSettings>,
}

impl Embedded {
    /// India's gazetteer with `settings`' road factor and speeds.
    pub fn new(settings: Arc<MapsSettings>) -> Self {
        Self {
            gazetteer: Gazetteer::india(),
            settings,
        }
    }

    fn hit(found: &Found<'_>) -> Hit {
        let place = found.place;
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Hit {
            place_id: format!("gz:{}", found.index),
            label: place.label(),
            address: Some(place.label()),
            city: Some(place.name.clone()),
            district: non_empty(&place.district),
            state: non_empty(&place.state),
            latitude: place.point.latitude,
            longitude: place.point.longitude,
        }
    }

    /// Search, synchronously.
    pub fn search_now(&self, query: &SearchQuery) -> Vec<Hit> {
        self.gazetteer
            .search(&query.text, query.bias, query.limit)
            .iter()
            .map(Self::hit)
            .collect()
    }

    /// Reverse, synchronously: the nearest place's name, district and
    /// state (`Near Whitefield, …` when the point is not at it).
    pub fn reverse_now(&self, point: Point) -> Option<Address> {
        let found = self.gazetteer.nearest(point)?;
        let distance = found.distance_m.unwrap_or(0.0);
        if distance > NEAR_A_PLACE_M {
            return None;
        }
        let place = found.place;
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let label = place.label();
        Some(Address {
            latitude: point.latitude,
            longitude: point.longitude,
            address: if distance < 1_500.0 {
                label
            } else {
                format!("Near {label}")
            },
            city: Some(place.name.clone()),
            district: non_empty(&place.district),
            state: non_empty(&place.state),
            country: Some("India".to_owned()),
            postal_code: None,
        })
    }

    /// A route through `points`, synchronously: straight legs, the road
    /// factor, the truck's speed.
    pub fn route_now(&self, points: &[Point], vehicle_type: Option<&str>) -> Route {
        let legs: Vec<Leg> = points
            .windows(2)
            .map(|pair| {
                let straight = haversine_m(pair[0], pair[1]);
                Leg {
                    distance_m: straight * self.settings.road_factor,
                    duration_s: self.settings.estimate_secs(straight, vehicle_type),
                }
            })
            .collect();
        Route {
            distance_m: legs.iter().map(|l| l.distance_m).sum(),
            duration_s: legs.iter().map(|l| l.duration_s).sum(),
            polyline: points.iter().map(|p| [p.latitude, p.longitude]).collect(),
            legs,
        }
    }
}

impl PlacesProvider for Embedded {
    fn source(&self) -> Source {
        Source::Embedded
    }

    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<Vec<Hit>, ProviderError>> {
        let hits = self.search_now(query);
        async move { Ok(hits) }.boxed()
    }

    fn reverse(&self, point: Point) -> BoxFuture<'_, Result<Option<Address>, ProviderError>> {
        let address = self.reverse_now(point);
        async move { Ok(address) }.boxed()
    }

    fn route<'a>(
        &'a self,
        points: &'a [Point],
        vehicle_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Route, ProviderError>> {
        let route = self.route_now(points, vehicle_type);
        async move { Ok(route) }.boxed()
    }
}
