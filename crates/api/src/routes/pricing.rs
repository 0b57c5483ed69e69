//! Prices the server stands behind: `GET vehicles/pricing` (public, exactly
//! what the customer app sends before login) and `POST pricing/estimate`.
//! Each answer carries a quote token, signed by the server and valid for
//! the rate card's quote window, naming what was priced and at how much.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use chrono::{Duration, FixedOffset};
use serde::Deserialize;
use serde_json::{Value, json};
use weelo_orders::pricing::{Catalogue, PricingError, QuoteInput};

use super::ok;
use crate::auth::Caller;
use crate::{ApiError, ApiJson, AppState};

/// India Standard Time, +05:30.
const IST_SECONDS: i32 = 5 * 3600 + 30 * 60;

/// Mounts the routes (before `vehicles/{id}`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/vehicles/pricing", web::get().to(vehicle_pricing))
        .route("/pricing/estimate", web::post().to(estimate));
}

#[derive(Debug, Deserialize)]
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
    let catalogue: &Arc<Catalogue> = &state.pricing;
    let vehicle_type = query
        .vehicle_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid_field("vehicleType", "vehicleType is required"))?
        .to_ascii_lowercase();
    let subtype = query.vehicle_subtype.as_deref().map_or("", str::trim);
    let distance_km = query
        .distance_km
        .ok_or_else(|| ApiError::invalid_field("distanceKm", "distanceKm is required"))?;
    let trucks = query.trucks_needed.unwrap_or(1);
    let now = state.clock.now();
    let local = FixedOffset::east_opt(IST_SECONDS)
        .map_or(now.naive_utc(), |ist| now.with_timezone(&ist).naive_local());
    let quote = catalogue
        .quote(QuoteInput {
            vehicle_type: &vehicle_type,
            vehicle_subtype: subtype,
            distance_km,
            trucks,
            cargo_kg: query.cargo_weight_kg,
            at: local,
        })
        .map_err(|error| match error {
            PricingError::UnknownType(_) => {
                ApiError::invalid_field("vehicleType", "no rates for this vehicle type")
            }
            PricingError::OutOfRange(message) => ApiError::invalid(message),
        })?;
    let valid_until = now + Duration::seconds(catalogue.quote_valid_secs);
    let payload = json!({
        "vehicleType": vehicle_type,
        "vehicleSubtype": subtype,
        "distanceKm": distance_km,
        "trucksNeeded": trucks,
        "pricePerTruck": quote.price_per_truck,
        "validUntilMs": valid_until.timestamp_millis(),
    });
    let token = state.auth.keys.sign_quote(&payload.to_string());
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Ok(json!({
        "pricing": {
            "vehicleType": vehicle_type,
            "vehicleSubtype": subtype,
            "pricePerTruck": quote.price_per_truck,
            "totalAmount": quote.total,
            "trucksNeeded": trucks,
            "basePrice": quote.base,
            "distanceCharge": round(quote.distance_charge),
            "tonnageCharge": round(quote.tonnage_charge),
            "subtypeMultiplier": quote.subtype_multiplier,
            "surgeMultiplier": quote.surge_multiplier,
            "surgeFactor": quote.surge_multiplier,
            "distanceSlab": quote.distance_slab,
            "chargeableKm": quote.chargeable_km,
            "capacityInfo": { "assumedTons": quote.tons },
            "currency": "INR",
            "validForMinutes": catalogue.quote_valid_secs / 60,
            "quoteToken": token,
            "quoteExpiresAt": weelo_dispatch::wire::iso(valid_until),
        }
    }))
}
