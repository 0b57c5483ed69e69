//! Prices the server stands behind, as a use case: checks the request,
//! prices it on the rate card at India's time now, and gives the answer
//! (the apps' `data.pricing`) and the quote to sign, valid for the rate
//! card's quote window. The edge signs the quote with the server's key.

use chrono::Duration;
use serde_json::{Value, json};
use weelo_orders::pricing::{Catalogue, PricingError, QuoteInput};

use crate::wire::{INDIA, iso};
use crate::{Dispatch, DispatchError};

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

/// A price: the answer without its token, and the quote to sign.
#[derive(Debug, Clone)]
pub struct Priced {
    /// `data.pricing`, less `quoteToken`.
    pub pricing: Value,
    /// What the quote token says.
    pub quote: Value,
}

/// Prices `request` on `catalogue` now.
pub fn price(
    state: &Dispatch,
    catalogue: &Catalogue,
    request: &PriceRequest,
) -> Result<Priced, DispatchError> {
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
    let now = state.clock.now();
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
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Ok(Priced {
        quote: json!({
            "vehicleType": vehicle_type,
            "vehicleSubtype": subtype,
            "distanceKm": distance_km,
            "trucksNeeded": trucks,
            "pricePerTruck": quote.price_per_truck,
            "validUntilMs": valid_until.timestamp_millis(),
        }),
        pricing: json!({
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
            "quoteExpiresAt": iso(valid_until),
        }),
    })
}
