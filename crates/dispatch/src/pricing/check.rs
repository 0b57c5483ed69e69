//! The price check of a new order: each line is priced by the server (a
//! quote it signed, honoured until it expires, or the rate card now) and a
//! client price more than [`TOLERANCE_PERCENT`] below the server's is
//! replaced by it. Both prices are kept on the truck requests and the
//! answer says what happened. An expired, altered or mismatched quote is
//! 409 `PRICE_STALE` carrying a fresh quote, so the app can show the new
//! price and send again.
//!
//! Where weelo-rs differs from the old server: it never lowers a price (a
//! customer offering more than the rate card keeps their offer, as the old
//! server did), and a quote binds the server only to the trip it was
//! priced for (same vehicle, distance within [`DISTANCE_SLACK_KM`]).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weelo_orders::input::{Line, ValidOrder};
use weelo_orders::pricing::QuoteInput;

use super::{PriceRequest, Prices, QuoteTerms, price_at};
use crate::wire::INDIA;
use crate::{DispatchError, ErrorCode};

/// How far below the server's price a client's may be and stand, percent.
pub const TOLERANCE_PERCENT: i64 = 5;

/// How far the order's distance may be from a quote's and the quote hold, km.
pub const DISTANCE_SLACK_KM: f64 = 1.0;

/// Why a quote was not honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stale {
    /// Not a token this server signed, or altered.
    Invalid,
    /// Past its validity.
    Expired,
    /// Signed for another vehicle or trip.
    Mismatch,
}

impl Stale {
    fn as_str(self) -> &'static str {
        match self {
            Stale::Invalid => "invalid",
            Stale::Expired => "expired",
            Stale::Mismatch => "mismatch",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Stale::Invalid => "the price quote is not one this server issued; here is a fresh one",
            Stale::Expired => "the price quote has expired; here is a fresh one",
            Stale::Mismatch => {
                "the price quote was for another vehicle or distance; here is a fresh one"
            }
        }
    }
}

/// Whether `client` is more than the tolerance below `server`.
pub fn too_low(client: i32, server: i32) -> bool {
    i64::from(client) * 100 < i64::from(server) * (100 - TOLERANCE_PERCENT)
}

/// Prices each line of `order` at `now` and replaces a client price too far
/// below the server's; a stale quote refuses the order (nothing changed).
pub fn check_order(
    prices: &Prices,
    order: &mut ValidOrder,
    now: DateTime<Utc>,
) -> Result<(), DispatchError> {
    let mut servers = Vec::with_capacity(order.lines.len());
    for (index, line) in order.lines.iter().enumerate() {
        let server = match &line.quote_token {
            Some(token) => match honoured(prices, token, line, order.distance_km, now) {
                Ok(price) => Some(price),
                Err(why) => return Err(stale(prices, order, index, why, now)),
            },
            None => rate_card(prices, line, order, now),
        };
        servers.push(server);
    }
    for (index, server) in servers.into_iter().enumerate() {
        if let Some(server) = server {
            let client = order.lines[index].client_price_per_truck;
            order.set_server_price(index, server, too_low(client, server));
        }
    }
    Ok(())
}

/// The price a quote promised for `line`, if it still holds.
fn honoured(
    prices: &Prices,
    token: &str,
    line: &Line,
    distance_km: i32,
    now: DateTime<Utc>,
) -> Result<i32, Stale> {
    let terms: QuoteTerms = prices
        .seal
        .open(token)
        .and_then(|payload| serde_json::from_str(&payload).ok())
        .ok_or(Stale::Invalid)?;
    if terms.valid_until_ms <= now.timestamp_millis() {
        return Err(Stale::Expired);
    }
    let same_vehicle = terms.vehicle_type == line.vehicle_type
        && (terms.vehicle_subtype.is_empty()
            || terms
                .vehicle_subtype
                .eq_ignore_ascii_case(&line.vehicle_subtype));
    if !same_vehicle || (terms.distance_km - f64::from(distance_km)).abs() > DISTANCE_SLACK_KM {
        return Err(Stale::Mismatch);
    }
    i32::try_from(terms.price_per_truck).map_err(|_| Stale::Invalid)
}

/// The rate card's price for `line` now; `None` when it has no rates for
/// the type (the client's price then stands).
fn rate_card(prices: &Prices, line: &Line, order: &ValidOrder, now: DateTime<Utc>) -> Option<i32> {
    let quote = prices
        .catalogue
        .quote(QuoteInput {
            vehicle_type: &line.vehicle_type,
            vehicle_subtype: &line.vehicle_subtype,
            distance_km: f64::from(match order.route_distance_km {
                Some(km) if order.route_measured => km,
                _ => order.distance_km,
            }),
            trucks: 1,
            cargo_kg: order.cargo_weight_kg,
            at: now.with_timezone(&INDIA).naive_local(),
        })
        .ok()?;
    i32::try_from(quote.price_per_truck).ok()
}

/// The 409 for a stale quote on line `index`, with a fresh quote for it.
fn stale(
    prices: &Prices,
    order: &ValidOrder,
    index: usize,
    why: Stale,
    now: DateTime<Utc>,
) -> DispatchError {
    let line = &order.lines[index];
    let request = PriceRequest {
        vehicle_type: Some(line.vehicle_type.clone()),
        vehicle_subtype: Some(line.vehicle_subtype.clone()),
        distance_km: Some(f64::from(order.distance_km)),
        trucks_needed: u32::try_from(line.quantity).ok(),
        cargo_weight_kg: order.cargo_weight_kg,
    };
    let fresh = price_at(prices, &request, now).unwrap_or(Value::Null);
    DispatchError::refused_with(
        ErrorCode::PriceStale,
        why.message(),
        json!({
            "field": format!("vehicleRequirements[{index}].quoteToken"),
            "reason": why.as_str(),
            "pricing": fresh,
        }),
    )
}

/// The answer's `priceCheck`: per line what the client offered, what the
/// server priced and what is in force.
pub fn summary(order: &ValidOrder) -> Value {
    let client_total: i64 = order
        .lines
        .iter()
        .map(|l| i64::from(l.quantity) * i64::from(l.client_price_per_truck))
        .sum();
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            json!({
                "vehicleType": line.vehicle_type,
                "vehicleSubtype": line.vehicle_subtype,
                "quantity": line.quantity,
                "clientPricePerTruck": line.client_price_per_truck,
                "serverPricePerTruck": line.server_price_per_truck,
                "pricePerTruck": line.price_per_truck,
                "adjusted": line.price_per_truck != line.client_price_per_truck,
                "source": match (&line.quote_token, line.server_price_per_truck) {
                    (Some(_), _) => "quote",
                    (None, Some(_)) => "rate_card",
                    (None, None) => "client",
                },
            })
        })
        .collect();
    json!({
        "adjusted": order.total_amount != client_total,
        "clientTotalAmount": client_total,
        "totalAmount": order.total_amount,
        "tolerancePercent": TOLERANCE_PERCENT,
        "distanceKm": order.distance_km,
        "routeDistanceKm": order.route_distance_km,
        "pricedOnRouteDistance": order.route_measured,
        "lines": lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_percent_below_stands_and_more_is_replaced() {
        assert!(!too_low(9_500, 10_000));
        assert!(too_low(9_499, 10_000));
        assert!(too_low(9_000, 10_000));
        assert!(!too_low(12_000, 10_000), "a higher offer stands");
    }
}
