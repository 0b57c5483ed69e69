//! Going online and offline, heartbeats, and the customer's map of nearby
//! trucks.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weelo_availability::{Point, VehicleKey, vehicle_type};
use weelo_orders::input::{INDIA_LATITUDE, INDIA_LONGITUDE};

use super::ok;
use crate::auth::{Authed, Caller, DriverRole, TransporterRole};
use crate::dto::iso;
use crate::limits::Kind;
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::fleet;
use weelo_dispatch::presence::BeatOutcome;

/// Mounts the presence routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/transporter/availability", web::get().to(get_transporter))
        .route("/transporter/availability", web::put().to(put_transporter))
        .route("/transporter/heartbeat", web::post().to(heartbeat))
        .route("/transporter/heartbeat", web::delete().to(stop_heartbeat))
        .route("/driver/availability", web::get().to(get_driver))
        .route("/driver/availability", web::put().to(put_driver))
        .route("/availability/nearby", web::get().to(nearby));
}

/// A position inside India, refusing NaN and out-of-range values.
fn point(latitude: f64, longitude: f64) -> Result<Point, ApiError> {
    if !latitude.is_finite() || !(INDIA_LATITUDE.0..=INDIA_LATITUDE.1).contains(&latitude) {
        return Err(ApiError::invalid_field(
            "latitude",
            "latitude must be inside India",
        ));
    }
    if !longitude.is_finite() || !(INDIA_LONGITUDE.0..=INDIA_LONGITUDE.1).contains(&longitude) {
        return Err(ApiError::invalid_field(
            "longitude",
            "longitude must be inside India",
        ));
    }
    Ok(Point::new(latitude, longitude))
}

/// Toggles availability under the cooldown; returns whether it changed.
async fn toggle(
    state: &AppState,
    id: Uuid,
    available: bool,
    cooldown_ms: i64,
) -> Result<bool, ApiError> {
    Ok(weelo_dispatch::presence::toggle(&state.dispatch, id, available, cooldown_ms).await?)
}

async fn get_transporter(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let (available, changed_at) = fleet::availability(&state.dispatch, caller.user_id()).await?;
    let now = state.clock.now();
    let cooldown_left = changed_at.map_or(0, |at| {
        (at + Duration::milliseconds(state.presence.settings().toggle_cooldown_ms) - now)
            .num_milliseconds()
            .max(0)
    });
    Ok(ok(json!({
        "isAvailable": available,
        "isOnline": available && state.presence.is_online(caller.user_id()),
        "updatedAt": changed_at.map(iso),
        "cooldownRemainingMs": cooldown_left,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransporterToggle {
    is_available: bool,
}

async fn put_transporter(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<TransporterToggle>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.user_id();
    let cooldown_ms = state.presence.settings().toggle_cooldown_ms;
    let changed = toggle(&state, id, body.is_available, cooldown_ms).await?;
    if changed {
        if body.is_available {
            let keys = fleet::free_vehicle_keys(&state.dispatch, id).await?;
            state.presence.set_online(id, keys).await;
        } else {
            state.presence.set_offline(id).await;
        }
        tracing::info!(transporter.id = %id, transporter.available = body.is_available, "availability changed");
    }
    Ok(ok(json!({
        "isAvailable": body.is_available,
        "idempotent": !changed,
        "cooldownMs": if changed { cooldown_ms } else { 0 },
        "updatedAt": iso(state.clock.now()),
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Heartbeat {
    latitude: f64,
    longitude: f64,
    vehicle_id: Option<Uuid>,
    is_on_trip: Option<bool>,
}

async fn heartbeat(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<Heartbeat>,
) -> Result<HttpResponse, ApiError> {
    let at = point(body.latitude, body.longitude)?;
    state
        .limits
        .check(caller.user_id(), Kind::Heartbeat, state.clock.now())?;
    let on_trip = body.is_on_trip.unwrap_or(false);
    let outcome = state.presence.beat(caller.user_id(), at, on_trip).await?;
    let next = state.presence.settings().heartbeat_interval_ms;
    Ok(ok(match outcome {
        BeatOutcome::Registered { keys } => json!({
            "registered": true,
            "vehicleKey": keys.first(),
            "vehicleKeys": keys,
            "vehicleId": body.vehicle_id,
            "isOnTrip": on_trip,
            "nextHeartbeatMs": next,
        }),
        BeatOutcome::Offline => json!({
            "registered": false,
            "reason": "offline",
            "isOnTrip": on_trip,
            "nextHeartbeatMs": next,
        }),
    }))
}

async fn stop_heartbeat(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    // Going offline is never refused by the cooldown.
    let changed = toggle(&state, caller.user_id(), false, 0).await?;
    state.presence.set_offline(caller.user_id()).await;
    Ok(ok(
        json!({ "registered": false, "isAvailable": false, "idempotent": !changed }),
    ))
}

async fn get_driver(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    let (online, changed_at) = fleet::availability(&state.dispatch, caller.user_id()).await?;
    Ok(ok(
        json!({ "isOnline": online, "lastLocation": null, "updatedAt": changed_at.map(iso) }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DriverToggle {
    is_online: bool,
}

async fn put_driver(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    body: ApiJson<DriverToggle>,
) -> Result<HttpResponse, ApiError> {
    let cooldown_ms = state.presence.settings().toggle_cooldown_ms;
    let changed = toggle(&state, caller.user_id(), body.is_online, cooldown_ms).await?;
    Ok(ok(json!({
        "isOnline": body.is_online,
        "idempotent": !changed,
        "cooldownMs": if changed { cooldown_ms } else { 0 },
        "updatedAt": iso(state.clock.now()),
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NearbyQuery {
    vehicle_type: String,
    vehicle_subtype: Option<String>,
    latitude: f64,
    longitude: f64,
    limit: Option<usize>,
    radius_km: Option<f64>,
}

/// Rounds to 2 decimals: about 1.1 km north-south and 1 km east-west in
/// India. A map of cars, not a tracker: nobody finds a fleet's yard, or
/// follows a truck home, from what the customer's map shows.
fn coarse(degrees: f64) -> f64 {
    (degrees * 100.0).round() / 100.0
}

async fn nearby(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<NearbyQuery>,
) -> Result<HttpResponse, ApiError> {
    let at = point(query.latitude, query.longitude)?;
    let entry = vehicle_type(&query.vehicle_type)
        .ok_or_else(|| ApiError::invalid_field("vehicleType", "unknown vehicle type"))?;
    let subtype =
        validate::text("vehicleSubtype", query.vehicle_subtype.as_deref(), 60)?.unwrap_or_default();
    let key = VehicleKey::new(entry.id, &subtype)
        .map_err(|e| ApiError::invalid_field("vehicleType", e.to_string()))?;
    let limit = query.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            "limit must be between 1 and 50",
        ));
    }
    let radius_km = query.radius_km.unwrap_or(10.0);
    if !radius_km.is_finite() || !(0.1..=100.0).contains(&radius_km) {
        return Err(ApiError::invalid_field(
            "radiusKm",
            "radiusKm must be between 0.1 and 100",
        ));
    }
    let found = state
        .presence
        .nearest(key.as_str(), at, limit, radius_km * 1000.0);
    let vehicles: Vec<_> = found
        .iter()
        .map(|n| {
            json!({
                "latitude": coarse(n.point.latitude),
                "longitude": coarse(n.point.longitude),
                // Whole kilometres: finer distances from known points
                // would locate the truck again.
                "distanceKm": (n.distance_m / 1000.0).round(),
            })
        })
        .collect();
    Ok(ok(json!({
        "vehicleType": entry.id,
        "vehicleSubtype": subtype,
        "vehicleKey": key.as_str(),
        "radiusKm": radius_km,
        "count": vehicles.len(),
        "vehicles": vehicles,
    })))
}
