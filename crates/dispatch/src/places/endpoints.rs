//! The geocoding endpoints as use cases (docs/app-contract.md §3.13): place
//! search, reverse look-up, routes over two or more points, the provider's
//! status, and each truck's ETA on a customer's order. Input is checked
//! here; the answers are the apps' shapes.

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_availability::Point;
use weelo_orders::assignment::AssignmentStatus;
use weelo_persistence::{orders, trips};

use super::types::{Route, SearchQuery, duration_text, km_of, minutes_of};
use crate::orders::OrderError;
use crate::{Dispatch, DispatchError, ErrorCode};

/// Most points of `route-multi`.
pub const MAX_ROUTE_POINTS: usize = 10;
/// Most results of a search.
pub const MAX_RESULTS: usize = 10;

/// `POST geocoding/search`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchBody {
    /// The text typed.
    pub query: Option<String>,
    /// The caller's latitude, to bias by.
    pub bias_lat: Option<f64>,
    /// The caller's longitude.
    pub bias_lng: Option<f64>,
    /// 1 to 10 (5 when not given).
    pub max_results: Option<i64>,
}

/// A point as the apps send it: `lat`/`lng` or `latitude`/`longitude`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PointBody {
    /// Degrees north.
    #[serde(alias = "lat")]
    pub latitude: Option<f64>,
    /// Degrees east.
    #[serde(alias = "lng")]
    pub longitude: Option<f64>,
    /// What the app calls it.
    pub label: Option<String>,
}

/// `POST geocoding/route`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RouteBody {
    /// Start.
    pub from: Option<PointBody>,
    /// End.
    pub to: Option<PointBody>,
    /// Whether to send the line.
    pub include_polyline: Option<bool>,
    /// A vehicle type, for the estimate's speed.
    pub vehicle_type: Option<String>,
}

/// `POST geocoding/route-multi`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RouteMultiBody {
    /// Two to ten points, in order.
    pub points: Option<Vec<PointBody>>,
    /// Whether to send the line (yes when not given).
    pub include_polyline: Option<bool>,
    /// A vehicle type, for the estimate's speed.
    pub vehicle_type: Option<String>,
}

/// A checked point; `field` names it in a refusal.
pub fn point(body: Option<&PointBody>, field: &str) -> Result<Point, DispatchError> {
    let body =
        body.ok_or_else(|| DispatchError::invalid_field(field, format!("{field} is required")))?;
    match (body.latitude, body.longitude) {
        (Some(lat), Some(lng))
            if lat.is_finite() && lng.is_finite() && lat.abs() <= 90.0 && lng.abs() <= 180.0 =>
        {
            Ok(Point::new(lat, lng))
        }
        _ => Err(DispatchError::invalid_field(
            field,
            format!("{field} needs a latitude (-90 to 90) and a longitude (-180 to 180)"),
        )),
    }
}

/// `data` of `POST geocoding/search`: a bare array of places.
pub async fn search(state: &Dispatch, body: &SearchBody) -> Result<Value, DispatchError> {
    let text = body
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| DispatchError::invalid_field("query", "query is required"))?;
    if text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err(DispatchError::invalid_field(
            "query",
            "query must be at most 200 printable characters",
        ));
    }
    let limit = match body.max_results {
        None => 5,
        Some(n) if (1..=10).contains(&n) => usize::try_from(n).unwrap_or(5),
        Some(_) => {
            return Err(DispatchError::invalid_field(
                "maxResults",
                format!("maxResults must be 1 to {MAX_RESULTS}"),
            ));
        }
    };
    let bias = match (body.bias_lat, body.bias_lng) {
        (None, None) => None,
        (lat, lng) => Some(point(
            Some(&PointBody {
                latitude: lat,
                longitude: lng,
                label: None,
            }),
            "biasLat",
        )?),
    };
    let served = state
        .places
        .search(&SearchQuery {
            text: text.to_owned(),
            bias,
            limit,
        })
        .await;
    let source = served.source.as_str();
    Ok(Value::Array(
        served
            .value
            .into_iter()
            .map(|hit| {
                let mut hit = json!(hit);
                hit["source"] = json!(source);
                hit
            })
            .collect(),
    ))
}

/// `data` of `POST geocoding/reverse`.
pub async fn reverse(state: &Dispatch, body: &PointBody) -> Result<Value, DispatchError> {
    let at = point(Some(body), "latitude")?;
    let served = state.places.reverse(at).await;
    let Some(address) = served.value else {
        return Err(DispatchError::refused(
            ErrorCode::NotFound,
            "no address is known near this point",
        ));
    };
    let mut answer = json!(address);
    answer["source"] = json!(served.source.as_str());
    Ok(answer)
}

fn route_json(route: &Route, source: &str, include_polyline: bool) -> Value {
    let mut answer = json!({
        "distanceKm": km_of(route.distance_m),
        "distanceMeters": route.distance_m.round(),
        "durationMinutes": minutes_of(route.duration_s),
        "durationSeconds": route.duration_s.round(),
        "durationFormatted": duration_text(route.duration_s),
        "source": source,
    });
    if include_polyline {
        answer["polyline"] = json!(route.polyline);
    }
    answer
}

fn vehicle(raw: Option<&str>) -> Option<String> {
    raw.map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty() && t.len() <= 30)
}

/// `data` of `POST geocoding/route`.
pub async fn route(state: &Dispatch, body: &RouteBody) -> Result<Value, DispatchError> {
    let points = [
        point(body.from.as_ref(), "from")?,
        point(body.to.as_ref(), "to")?,
    ];
    let vehicle = vehicle(body.vehicle_type.as_deref());
    let served = state.places.route(&points, vehicle.as_deref()).await;
    Ok(route_json(
        &served.value,
        served.source.as_str(),
        body.include_polyline.unwrap_or(false),
    ))
}

/// `data` of `POST geocoding/route-multi`.
pub async fn route_multi(state: &Dispatch, body: &RouteMultiBody) -> Result<Value, DispatchError> {
    let sent = body.points.as_deref().unwrap_or_default();
    if !(2..=MAX_ROUTE_POINTS).contains(&sent.len()) {
        return Err(DispatchError::invalid_field(
            "points",
            format!("points must hold 2 to {MAX_ROUTE_POINTS} points"),
        ));
    }
    let points = sent
        .iter()
        .enumerate()
        .map(|(i, p)| point(Some(p), &format!("points[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let vehicle = vehicle(body.vehicle_type.as_deref());
    let served = state.places.route(&points, vehicle.as_deref()).await;
    let route = &served.value;
    let mut answer = route_json(
        route,
        served.source.as_str(),
        body.include_polyline.unwrap_or(true),
    );
    answer["legs"] = route
        .legs
        .iter()
        .enumerate()
        .map(|(i, leg)| {
            json!({
                "fromIndex": i,
                "toIndex": i + 1,
                "fromLabel": sent[i].label,
                "toLabel": sent.get(i + 1).and_then(|p| p.label.clone()),
                "distanceKm": km_of(leg.distance_m),
                "durationMinutes": minutes_of(leg.duration_s),
                "durationFormatted": duration_text(leg.duration_s),
            })
        })
        .collect();
    Ok(answer)
}

/// `data` of `GET tracking/booking/{orderId}/eta`: per truck on its way
/// with a recent fix, the time to the pickup (before loading) or the drop.
pub async fn booking_eta(
    state: &Dispatch,
    customer: Uuid,
    order_id: Uuid,
) -> Result<Value, DispatchError> {
    let (order, list, trucks) = {
        let mut conn = state.conn().await?;
        let order = orders::find_for_customer(&mut conn, customer, order_id)
            .await?
            .ok_or(OrderError::OrderNotFound)?;
        let list = trips::of_order(&mut conn, order_id).await?;
        let ids: Vec<Uuid> = list.iter().map(|a| a.truck_request_id).collect();
        let trucks = orders::trucks_by_ids(&mut conn, &ids).await?;
        (order, list, trucks)
    };
    let pickup = Point::new(order.pickup_latitude, order.pickup_longitude);
    let drop = Point::new(order.drop_latitude, order.drop_longitude);
    let mut etas = serde_json::Map::new();
    for trip in &list {
        let target = match trip.status() {
            AssignmentStatus::DriverAccepted | AssignmentStatus::EnRoutePickup => {
                ("pickup", pickup)
            }
            AssignmentStatus::AtPickup
            | AssignmentStatus::LoadingComplete
            | AssignmentStatus::InTransit => ("drop", drop),
            _ => continue,
        };
        let Some(fix) = state.tracking.latest(trip.trip_id).await else {
            continue;
        };
        let from = Point::new(fix.latitude, fix.longitude);
        let vehicle = trucks
            .iter()
            .find(|t| t.id == trip.truck_request_id)
            .map(|t| t.vehicle_type.as_str());
        let served = state.places.route(&[from, target.1], vehicle).await;
        etas.insert(
            trip.trip_id.to_string(),
            json!({
                "durationMinutes": minutes_of(served.value.duration_s),
                "distanceKm": km_of(served.value.distance_m),
                "durationText": duration_text(served.value.duration_s),
                "target": target.0,
                "status": trip.status().as_str(),
                "source": served.source.as_str(),
                "fixAt": fix.at_ms,
            }),
        );
    }
    Ok(json!({ "orderId": order_id, "bookingId": order_id, "etas": etas }))
}

/// Counts one geocoding call of `user` against `maps.calls_per_minute`
/// (every instance shares the window in Redis; a Redis error lets the
/// call through).
pub async fn take_call(state: &Dispatch, user: Uuid) -> Result<(), DispatchError> {
    let limit = state.places.settings().calls_per_minute;
    if limit == 0 {
        return Ok(());
    }
    let now_ms = state.clock.now().timestamp_millis();
    match state
        .cache
        .rate_limit(
            &format!("places:{user}"),
            limit,
            60_000,
            now_ms,
            &Uuid::new_v4().to_string(),
        )
        .await
    {
        Ok(weelo_cache::RateDecision::Allowed) => Ok(()),
        Ok(weelo_cache::RateDecision::Limited { retry_after_ms }) => {
            Err(DispatchError::RateLimited {
                code: ErrorCode::RateLimitExceeded,
                message: "too many place look-ups; slow down".to_owned(),
                retry_after_ms,
            })
        }
        Err(error) => {
            tracing::warn!(%error, "the places rate limit is not counted while Redis is unreachable");
            Ok(())
        }
    }
}
