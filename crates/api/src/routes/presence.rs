//! Going online and offline, heartbeats, and the customer's map of nearby
//! trucks.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weelo_availability::{Point, VehicleKey, vehicle_type};
use weelo_dispatch::ErrorCode;
use weelo_orders::input::{INDIA_LATITUDE, INDIA_LONGITUDE};

use super::ok;
use crate::auth::{Authed, Caller, DriverRole, TransporterRole};
use crate::limits::Kind;
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::presence::switch;

/// Mounts the presence routes.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("presence")
        .get(
            "/transporter/availability",
            get_transporter,
            Doc::new("Whether the transporter is online", || {
                obj(&[("isAvailable", boolean()), ("isOnline", boolean())])
            }),
        )
        .put(
            "/transporter/availability",
            put_transporter,
            Doc::new("Go online or offline", object).errors(&[E::ToggleRateLimited]),
        )
        .post(
            "/transporter/heartbeat",
            heartbeat,
            Doc::new(
                "The transporter's position, every few seconds while online",
                object,
            ),
        )
        .delete(
            "/transporter/heartbeat",
            stop_heartbeat,
            Doc::new("Stop sharing the position", object),
        )
        .get(
            "/driver/availability",
            get_driver,
            Doc::new("Whether the driver is available", || {
                obj(&[("isOnline", boolean())])
            }),
        )
        .put(
            "/driver/availability",
            put_driver,
            Doc::new("The driver goes on or off duty", object).errors(&[E::ToggleRateLimited]),
        )
        .get(
            "/availability/nearby",
            nearby,
            Doc::new("Online trucks near a point, for the customer's map", object),
        );
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

async fn get_transporter(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(switch::transporter_state(
        &state.dispatch,
        caller.user_id(),
    )
    .await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TransporterToggle {
    is_available: bool,
}

async fn put_transporter(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<TransporterToggle>,
) -> Result<HttpResponse, ApiError> {
    let data =
        switch::switch_transporter(&state.dispatch, caller.user_id(), body.is_available).await?;
    Ok(ok(data))
}

#[derive(Deserialize, JsonSchema)]
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
    let data = switch::heartbeat(
        &state.dispatch,
        caller.user_id(),
        at,
        on_trip,
        body.vehicle_id,
    )
    .await?;
    Ok(ok(data))
}

async fn stop_heartbeat(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(switch::stop_heartbeat(
        &state.dispatch,
        caller.user_id(),
    )
    .await?))
}

async fn get_driver(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        switch::driver_state(&state.dispatch, caller.user_id()).await?
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DriverToggle {
    is_online: bool,
}

async fn put_driver(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    body: ApiJson<DriverToggle>,
) -> Result<HttpResponse, ApiError> {
    let data = switch::switch_driver(&state.dispatch, caller.user_id(), body.is_online).await?;
    Ok(ok(data))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NearbyQuery {
    vehicle_type: String,
    vehicle_subtype: Option<String>,
    latitude: f64,
    longitude: f64,
    limit: Option<usize>,
    radius_km: Option<f64>,
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
    let mut vehicles = switch::nearby(&state.dispatch, &key, at, limit, radius_km);
    // Each entry names its kind too (docs/app-contract.md): the map draws each truck's
    // icon from it.
    for vehicle in &mut vehicles {
        vehicle["vehicleType"] = json!(entry.id);
        vehicle["vehicleSubtype"] = json!(subtype);
    }
    Ok(ok(json!({
        "vehicleType": entry.id,
        "vehicleSubtype": subtype,
        "vehicleKey": key.as_str(),
        "radiusKm": radius_km,
        "count": vehicles.len(),
        "vehicles": vehicles,
    })))
}
