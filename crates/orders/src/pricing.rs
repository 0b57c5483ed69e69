//! Prices the server stands behind: a per-type rate card (base, per km, per
//! ton·km, minimum) with subtype multipliers, distance slabs and surge by
//! India's hour and weekday (config/pricing.toml; docs/order-lifecycle.md). The catalogue is data
//! (`config/pricing.toml`); this is the arithmetic, with no I/O.
//!
//! Where weelo-rs differs from the old server: a slab's multiplier applies
//! to the kilometres inside the slab, as tax brackets do, not to the whole
//! fare. The old way made a 51 km trip cheaper than a 50 km one (×1.3 up to
//! 50 km, ×1.2 beyond); here a longer trip never costs less.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};
use serde::Deserialize;

/// The rate card.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Kilometres charged at least.
    pub min_chargeable_km: f64,
    /// How long a quote is honoured, seconds.
    pub quote_valid_secs: i64,
    /// Distance slabs, nearest first; the last has no upper bound.
    pub slabs: Vec<Slab>,
    /// Surge by hour and day.
    pub surge: Surge,
    /// Per vehicle type.
    pub types: Vec<TypeRates>,
}

/// A distance slab: the kilometres up to `up_to_km` (from the previous
/// slab's end) cost `multiplier` times the per-km rates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slab {
    /// Where it ends (none: the last slab).
    pub up_to_km: Option<f64>,
    /// Its multiplier.
    pub multiplier: f64,
    /// Its name (`local`, `regional`…).
    pub name: String,
}

/// Surge multipliers; the effects multiply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surge {
    /// Peak hours (India), 0–23.
    pub peak_hours: Vec<u32>,
    /// Their multiplier.
    pub peak: f64,
    /// Night hours (India), 0–23.
    pub night_hours: Vec<u32>,
    /// Their multiplier.
    pub night: f64,
    /// Saturday and Sunday.
    pub weekend: f64,
}

/// One vehicle type's rates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRates {
    /// The type id the apps send.
    pub id: String,
    /// Fixed part, ₹.
    pub base: f64,
    /// ₹ per km.
    pub per_km: f64,
    /// ₹ per ton per km.
    pub per_ton_km: f64,
    /// The least a truck costs, ₹.
    pub min: f64,
    /// Tons assumed when the cargo weight is not given.
    pub default_tons: f64,
    /// Subtype multipliers, by the subtype the apps send (others: 1).
    #[serde(default)]
    pub subtypes: BTreeMap<String, f64>,
}

/// What to price.
#[derive(Debug, Clone, Copy)]
pub struct QuoteInput<'a> {
    /// Vehicle type id.
    pub vehicle_type: &'a str,
    /// Subtype.
    pub vehicle_subtype: &'a str,
    /// Trip distance, km.
    pub distance_km: f64,
    /// Trucks.
    pub trucks: u32,
    /// Cargo per truck, kg, when known.
    pub cargo_kg: Option<f64>,
    /// Now, in India.
    pub at: NaiveDateTime,
}

/// A price and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// ₹ per truck.
    pub price_per_truck: i64,
    /// ₹ for all trucks.
    pub total: i64,
    /// Fixed part.
    pub base: f64,
    /// The kilometres' part (slabs applied).
    pub distance_charge: f64,
    /// Of which the tonnage's.
    pub tonnage_charge: f64,
    /// The subtype's multiplier.
    pub subtype_multiplier: f64,
    /// Surge.
    pub surge_multiplier: f64,
    /// The slab the trip ends in.
    pub distance_slab: String,
    /// Kilometres charged.
    pub chargeable_km: f64,
    /// Tons assumed.
    pub tons: f64,
}

/// Why a quote cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The type is not on the rate card.
    #[error("no rates for vehicle type {0}")]
    UnknownType(String),
    /// Distance or trucks out of range.
    #[error("{0}")]
    OutOfRange(&'static str),
}

impl Catalogue {
    /// The rates of `vehicle_type`.
    pub fn rates(&self, vehicle_type: &str) -> Option<&TypeRates> {
        self.types.iter().find(|t| t.id == vehicle_type)
    }

    /// Surge at `at` (India).
    pub fn surge_at(&self, at: NaiveDateTime) -> f64 {
        let hour = at.hour();
        let mut surge = 1.0;
        if self.surge.peak_hours.contains(&hour) {
            surge *= self.surge.peak;
        }
        if self.surge.night_hours.contains(&hour) {
            surge *= self.surge.night;
        }
        if matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
            surge *= self.surge.weekend;
        }
        surge
    }

    /// Prices `input`.
    pub fn quote(&self, input: QuoteInput<'_>) -> Result<Quote, PricingError> {
        if !(input.distance_km.is_finite() && (0.0..=5000.0).contains(&input.distance_km)) {
            return Err(PricingError::OutOfRange("distanceKm must be 0 to 5000"));
        }
        if !(1..=100).contains(&input.trucks) {
            return Err(PricingError::OutOfRange("trucksNeeded must be 1 to 100"));
        }
        let rates = self
            .rates(input.vehicle_type)
            .ok_or_else(|| PricingError::UnknownType(input.vehicle_type.to_owned()))?;
        let tons = input
            .cargo_kg
            .filter(|kg| kg.is_finite() && *kg > 0.0)
            .map_or(rates.default_tons, |kg| kg / 1000.0);
        let chargeable_km = input.distance_km.max(self.min_chargeable_km);
        let per_km = rates.per_km + tons * rates.per_ton_km;
        let mut from = 0.0;
        let (mut distance_charge, mut tonnage_charge) = (0.0, 0.0);
        let mut slab_name = String::new();
        for slab in &self.slabs {
            let to = slab.up_to_km.unwrap_or(f64::INFINITY);
            let km = (chargeable_km.min(to) - from).max(0.0);
            distance_charge += km * per_km * slab.multiplier;
            tonnage_charge += km * tons * rates.per_ton_km * slab.multiplier;
            if km > 0.0 {
                slab_name.clone_from(&slab.name);
            }
            from = to;
            if chargeable_km <= to {
                break;
            }
        }
        let subtype_multiplier = rates
            .subtypes
            .get(input.vehicle_subtype)
            .copied()
            .unwrap_or(1.0);
        let surge_multiplier = self.surge_at(input.at);
        let raw = (rates.base + distance_charge) * subtype_multiplier * surge_multiplier;
        let price_per_truck = raw.max(rates.min).round() as i64;
        Ok(Quote {
            price_per_truck,
            total: price_per_truck * i64::from(input.trucks),
            base: rates.base,
            distance_charge,
            tonnage_charge,
            subtype_multiplier,
            surge_multiplier,
            distance_slab: slab_name,
            chargeable_km,
            tons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// The repository's rate card.
    fn catalogue() -> Catalogue {
        toml::from_str(include_str!("../../../config/pricing.toml")).unwrap()
    }

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        // 2027-01-04 is a Monday.
        NaiveDate::from_ymd_opt(2027, 1, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    fn input(kind: &str, km: f64, when: NaiveDateTime) -> QuoteInput<'_> {
        QuoteInput {
            vehicle_type: kind,
            vehicle_subtype: "17 Feet",
            distance_km: km,
            trucks: 2,
            cargo_kg: None,
            at: when,
        }
    }

    #[test]
    fn prices_never_fall_as_distance_grows_and_never_go_below_the_minimum() {
        let c = catalogue();
        for rates in &c.types {
            for hour in [3, 9, 13, 22] {
                let mut last = 0;
                for tenth in 0..=8_000 {
                    let km = f64::from(tenth) / 10.0;
                    let q = c.quote(input(&rates.id, km, at(4, hour))).unwrap();
                    assert!(q.price_per_truck >= last, "{} at {km} km", rates.id);
                    assert!(
                        q.price_per_truck as f64 >= rates.min.round(),
                        "{}",
                        rates.id
                    );
                    assert_eq!(q.total, q.price_per_truck * 2);
                    last = q.price_per_truck;
                }
            }
        }
    }

    #[test]
    fn surge_multiplies_the_price() {
        let c = catalogue();
        let calm = c.quote(input("open", 300.0, at(4, 13))).unwrap();
        let peak = c.quote(input("open", 300.0, at(4, 9))).unwrap();
        let weekend_peak = c.quote(input("open", 300.0, at(9, 9))).unwrap();
        assert_eq!(calm.surge_multiplier, 1.0);
        assert_eq!(peak.surge_multiplier, c.surge.peak);
        assert!((weekend_peak.surge_multiplier - c.surge.peak * c.surge.weekend).abs() < 1e-9);
        let expected = (calm.price_per_truck as f64 * c.surge.peak).round() as i64;
        assert!(
            (peak.price_per_truck - expected).abs() <= 1,
            "{peak:?} vs {calm:?}"
        );
    }

    #[test]
    fn an_unknown_type_or_a_bad_distance_is_refused() {
        let c = catalogue();
        assert_eq!(
            c.quote(input("rocket", 10.0, at(4, 13))),
            Err(PricingError::UnknownType("rocket".to_owned()))
        );
        assert!(c.quote(input("open", -1.0, at(4, 13))).is_err());
        assert!(c.quote(input("open", f64::NAN, at(4, 13))).is_err());
    }
}
