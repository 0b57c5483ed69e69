//! Prices the server stands behind: `GET vehicles/pricing` (public, exactly
//! what the customer app sends before login) and `POST pricing/estimate`.
//! The use case prices and signs the quote.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use weelo_dispatch::pricing::{self, PriceRequest};

use super::ok;
use crate::auth::Caller;
use crate::{ApiError, ApiJson, AppState};

/// Mounts the routes (before `vehicles/{id}`).
pub fn configure(r: &mut Router) {
    r.area("pricing")
        .get(
            "/vehicles/pricing",
            vehicle_pricing,
            Doc::new("The rate card's price of a vehicle for a distance", object),
        )
        .post(
            "/pricing/estimate",
            estimate,
            Doc::new("A signed price quote for a vehicle and a distance", object),
        );
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct PriceQuery {
    vehicle_type: Option<String>,
    vehicle_subtype: Option<String>,
    distance_km: Option<f64>,
    trucks_needed: Option<u32>,
    cargo_weight_kg: Option<f64>,
}

async fn vehicle_pricing(
    state: web::Data<AppState>,
    query: web::Query<PriceQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(priced(&state, &query.into_inner())?))
}

async fn estimate(
    state: web::Data<AppState>,
    _caller: Caller,
    body: ApiJson<PriceQuery>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(body) = body;
    Ok(ok(priced(&state, &body)?))
}

fn priced(state: &AppState, query: &PriceQuery) -> Result<Value, ApiError> {
    let request = PriceRequest {
        vehicle_type: query.vehicle_type.clone(),
        vehicle_subtype: query.vehicle_subtype.clone(),
        distance_km: query.distance_km,
        trucks_needed: query.trucks_needed,
        cargo_weight_kg: query.cargo_weight_kg,
    };
    Ok(pricing::price(&state.dispatch, &request)?)
}
