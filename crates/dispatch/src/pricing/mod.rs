//! Prices the server stands behind, as use cases: [`price`] checks a price
//! request, prices it on the rate card at India's time now and answers the
//! apps' `data.pricing` with a signed quote valid for the rate card's quote
//! window; [`check::check_order`] re-prices each line of a new order before
//! it is written.

pub mod check;
mod seal;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weelo_orders::pricing::{Catalogue, PricingError, QuoteInput};

pub use self::seal::QuoteSeal;
use crate::wire::{INDIA, iso};
use crate::{Dispatch, DispatchError};

/// The rate card and the key quotes are signed with.
#[derive(Debug, Clone)]
pub struct Prices {
    /// The rate card (`config/pricing.toml`).
    pub catalogue: Arc<Catalogue>,
    /// Signs and opens quote tokens.
    pub seal: QuoteSeal,
}

/// A price request as the app sends it.
#[derive(Debug, Clone, Default)]
pub struct PriceRequest {
    /// Vehicle type id.
    pub vehicle_type: Option<String>,
    /// Subtype.
    pub vehicle_subtype: Option<String>,
    /// Trip distance, km.
    pub distance_km: Option<f64>,
    /// Trucks (1 when not given).
    pub trucks_needed: Option<u32>,
    /// Cargo per truck, kg.
    pub cargo_weight_kg: Option<f64>,
}

/// What a quote token says: the terms it was priced on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteTerms {
    /// Vehicle type id.
    pub vehicle_type: String,
    /// Subtype.
    pub vehicle_subtype: String,
    /// Trip distance, km.
    pub distance_km: f64,
    /// Trucks.
    pub trucks_needed: u32,
    /// ₹ per truck promised.
    pub price_per_truck: i64,
    /// Until when, ms since the epoch.
    pub valid_until_ms: i64,
}

/// `GET vehicles/pricing` and `POST pricing/estimate`: `data`, with the
/// signed quote in `pricing.quoteToken`.
pub fn price(state: &Dispatch, request: &PriceRequest) -> Result<Value, DispatchError> {
    Ok(json!({ "pricing": price_at(&state.prices, request, state.clock.now())? }))
}

/// `data.pricing` for `request` at `now`, its quote signed.
pub fn price_at(
    prices: &Prices,
    request: &PriceRequest,
    now: DateTime<Utc>,
) -> Result<Value, DispatchError> {
    let catalogue = &prices.catalogue;
    let vehicle_type = request
        .vehicle_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| DispatchError::invalid_field("vehicleType", "vehicleType is required"))?
        .to_ascii_lowercase();
    let subtype = request.vehicle_subtype.as_deref().map_or("", str::trim);
    let distance_km = request
        .distance_km
        .ok_or_else(|| DispatchError::invalid_field("distanceKm", "distanceKm is required"))?;
    let trucks = request.trucks_needed.unwrap_or(1);
    let quote = catalogue
        .quote(QuoteInput {
            vehicle_type: &vehicle_type,
            vehicle_subtype: subtype,
            distance_km,
            trucks,
            cargo_kg: request.cargo_weight_kg,
            at: now.with_timezone(&INDIA).naive_local(),
        })
        .map_err(|error| match error {
            PricingError::UnknownType(_) => {
                DispatchError::invalid_field("vehicleType", "no rates for this vehicle type")
            }
            PricingError::OutOfRange(message) => DispatchError::invalid(message),
        })?;
    let valid_until = now + Duration::seconds(catalogue.quote_valid_secs);
    let terms = QuoteTerms {
        vehicle_type: vehicle_type.clone(),
        vehicle_subtype: subtype.to_owned(),
        distance_km,
        trucks_needed: trucks,
        price_per_truck: quote.price_per_truck,
        valid_until_ms: valid_until.timestamp_millis(),
    };
    let token = serde_json::to_string(&terms)
        .map(|payload| prices.seal.sign(&payload))
        .map_err(|error| DispatchError::Internal {
            cause: format!("a quote did not serialize: {error}"),
        })?;
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Ok(json!({
        "vehicleType": vehicle_type,
        "vehicleSubtype": subtype,
        "pricePerTruck": quote.price_per_truck,
        "totalAmount": quote.total,
        "trucksNeeded": trucks,
        "distanceKm": distance_km,
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
        "quoteExpiresAt": iso(valid_until),
        "quoteToken": token,
    }))
}
