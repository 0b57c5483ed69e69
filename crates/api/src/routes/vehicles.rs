//! A transporter's vehicles, and the public vehicle catalogue.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use chrono::Datelike;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weelo_availability::VehicleStatus;
use weelo_availability::{CATALOGUE, VehicleKey, vehicle_type};
use weelo_dispatch::ErrorCode;
use weelo_persistence::vehicles::VehicleInput;

use super::ok;
use crate::auth::{Authed, TransporterRole};
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::accounts::dto::VehicleDto;
use weelo_dispatch::fleet::{self, normalise_vehicle_number};

/// Mounts `vehicles/*` (fixed paths before `{id}`).
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("vehicles")
        .get(
            "/vehicles/types",
            types,
            Doc::new("The vehicle catalogue", || {
                obj(&[("types", array(object())), ("total", int())])
            }),
        )
        .get(
            "/vehicles/list",
            list,
            Doc::new("The transporter's vehicles with counts by status", || {
                obj(&[("vehicles", array(object())), ("total", int())])
            }),
        )
        .put(
            "/vehicles/upsert",
            upsert,
            Doc::new("Register a vehicle, or update it by its number", || {
                obj(&[("vehicle", object())])
            })
            .links(
                "id",
                "$response.body#/data/vehicle/id",
                &[
                    ("GET", "/vehicles/{id}"),
                    ("GET", "/vehicles/{id}/documents"),
                    ("DELETE", "/vehicles/{id}"),
                ],
            )
            .errors(&[E::VehicleExists]),
        )
        .get(
            "/vehicles/{id}",
            get_one,
            Doc::new("One of the transporter's vehicles", || {
                obj(&[("vehicle", object())])
            })
            .errors(&[E::VehicleNotFound]),
        )
        .delete(
            "/vehicles/{id}",
            delete,
            Doc::new("Remove a vehicle that is not on a job", || {
                obj(&[("message", string()), ("vehicleId", uuid())])
            })
            .errors(&[E::VehicleNotFound, E::VehicleInUse]),
        );
}

async fn types() -> HttpResponse {
    ok(json!({ "types": CATALOGUE, "total": CATALOGUE.len() }))
}

async fn list(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let fleet = fleet::vehicles_of(&state.dispatch, caller.user_id()).await?;
    let count = |status: VehicleStatus| fleet.iter().filter(|v| v.status == status).count();
    Ok(ok(json!({
        "vehicles": fleet.iter().map(VehicleDto::from).collect::<Vec<_>>(),
        "total": fleet.len(),
        "available": count(VehicleStatus::Available),
        "onHold": count(VehicleStatus::OnHold),
        "inTransit": count(VehicleStatus::InTransit),
        "maintenance": count(VehicleStatus::Maintenance),
        "inactive": count(VehicleStatus::Inactive),
    })))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct VehicleBody {
    vehicle_number: String,
    vehicle_type: String,
    vehicle_subtype: String,
    capacity: Option<String>,
    model: Option<String>,
    year: Option<i32>,
    rc_number: Option<String>,
}

async fn upsert(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<VehicleBody>,
) -> Result<HttpResponse, ApiError> {
    let number = normalise_vehicle_number(&body.vehicle_number).ok_or_else(|| {
        ApiError::invalid_field(
            "vehicleNumber",
            "vehicleNumber must look like MH12AB1234 or 22BH1234AA",
        )
    })?;
    let entry = vehicle_type(&body.vehicle_type).ok_or_else(|| {
        let known: Vec<&str> = CATALOGUE.iter().map(|t| t.id).collect();
        ApiError::invalid_field(
            "vehicleType",
            format!("vehicleType must be one of {}", known.join(", ")),
        )
    })?;
    let subtype = validate::required_text("vehicleSubtype", Some(&body.vehicle_subtype), 60)?;
    let key = VehicleKey::new(entry.id, &subtype)
        .map_err(|error| ApiError::invalid_field("vehicleType", error.to_string()))?;
    let capacity = validate::text("capacity", body.capacity.as_deref(), 30)?;
    let model = validate::text("model", body.model.as_deref(), 60)?;
    let rc_number = validate::text("rcNumber", body.rc_number.as_deref(), 30)?;
    let now = state.clock.now();
    if let Some(year) = body.year
        && !(1980..=now.year() + 1).contains(&year)
    {
        return Err(ApiError::invalid_field(
            "year",
            format!("year must be between 1980 and {}", now.year() + 1),
        ));
    }
    let input = VehicleInput {
        vehicle_number: &number,
        vehicle_type: entry.id,
        vehicle_subtype: &subtype,
        vehicle_key: key.as_str(),
        capacity: capacity.as_deref(),
        model: model.as_deref(),
        year: body.year,
        rc_number: rc_number.as_deref(),
    };
    let (vehicle, is_new) = fleet::save_vehicle(&state.dispatch, caller.user_id(), &input).await?;
    Ok(ok(
        json!({ "vehicle": VehicleDto::from(vehicle.as_ref()), "isNew": is_new }),
    ))
}

async fn get_one(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = fleet::vehicle(&state.dispatch, caller.user_id(), *id).await?;
    Ok(ok(json!({ "vehicle": VehicleDto::from(&vehicle) })))
}

async fn delete(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    fleet::delete_vehicle(&state.dispatch, caller.user_id(), *id).await?;
    Ok(ok(
        json!({ "message": "Vehicle deleted", "vehicleId": *id }),
    ))
}
