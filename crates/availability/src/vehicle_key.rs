//! Vehicle keys: one canonical string per (type, subtype), so that the many
//! spellings the apps and old data use for one kind of truck match.
//!
//! `("Open", "17 Feet")`, `("open", "Open 17 Feet")` and `("OPEN", "17 ft")`
//! all give `open_17_ft`. The rules (from the old system's key service, made
//! deterministic so no "candidate" list is needed):
//! 1. lower-case, and abbreviate whole words (`feet` → `ft`, `ton` → `t`,
//!    `wheeler` → `w`, `single` → `s`, `container` → `cont`, …);
//! 2. split on anything that is not a letter or digit;
//! 3. drop the type's own token from the subtype;
//! 4. order the subtype's tokens: numbers, then units, then words (stable);
//! 5. join as `{type}_{subtype tokens}`.

use std::fmt;

/// Whole-word abbreviations, applied to type and subtype alike.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("feet", "ft"),
    ("foot", "ft"),
    ("ton", "t"),
    ("tons", "t"),
    ("tonne", "t"),
    ("tonnes", "t"),
    ("wheeler", "w"),
    ("wheelers", "w"),
    ("axle", "ax"),
    ("single", "s"),
    ("multi", "m"),
    ("double", "d"),
    ("triple", "tr"),
    ("container", "cont"),
    ("trailer", "trail"),
    ("tipper", "tip"),
    ("tanker", "tank"),
    ("dumper", "dump"),
    ("bulker", "bulk"),
    ("flatbed", "flat"),
    ("refrigerated", "ref"),
    ("pickup", "pick"),
];

/// Tokens that are units of a number; they sort after the numbers.
const UNITS: &[&str] = &["ft", "t", "w", "mt", "kg"];

/// The canonical key of a (type, subtype) pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VehicleKey(String);

/// Why a key could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VehicleKeyError {
    /// The type has no letter or digit in it.
    #[error("vehicle type is empty")]
    EmptyType,
}

impl VehicleKey {
    /// Normalises `vehicle_type` and `vehicle_subtype` into a key.
    pub fn new(vehicle_type: &str, vehicle_subtype: &str) -> Result<Self, VehicleKeyError> {
        let type_tokens = tokens(vehicle_type);
        if type_tokens.is_empty() {
            return Err(VehicleKeyError::EmptyType);
        }
        let mut subtype_tokens: Vec<String> = tokens(vehicle_subtype)
            .into_iter()
            .filter(|token| !type_tokens.contains(token))
            .collect();
        subtype_tokens.sort_by_key(|token| token_class(token));
        let key = type_tokens
            .into_iter()
            .chain(subtype_tokens)
            .collect::<Vec<_>>()
            .join("_");
        Ok(Self(key))
    }

    /// The key as stored and indexed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VehicleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|token| !token.is_empty())
        .flat_map(split_number_from_unit)
        .map(|token| abbreviate(&token))
        .collect()
}

/// `17ft` and `10wheeler` are a number glued to a unit: split them.
fn split_number_from_unit(token: &str) -> Vec<String> {
    let digits = token.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits == token.len() {
        return vec![token.to_owned()];
    }
    let (number, rest) = token.split_at(digits);
    vec![number.to_owned(), rest.to_owned()]
}

fn abbreviate(token: &str) -> String {
    ABBREVIATIONS
        .iter()
        .find(|(word, _)| *word == token)
        .map_or_else(|| token.to_owned(), |(_, short)| (*short).to_owned())
}

/// Numbers first, then units, then words.
fn token_class(token: &str) -> u8 {
    if token.chars().all(|c| c.is_ascii_digit()) {
        0
    } else if UNITS.contains(&token) {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(vehicle_type: &str, subtype: &str) -> String {
        VehicleKey::new(vehicle_type, subtype)
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn the_reference_examples_hold() {
        assert_eq!(key("Open", "17 Feet"), "open_17_ft");
        assert_eq!(key("Open", "Open 17 Feet"), "open_17_ft");
        assert_eq!(key("LCV", "Open 17 Feet"), "lcv_17_ft_open");
    }

    #[test]
    fn spellings_of_one_truck_share_a_key() {
        let same = [
            ("open", "17 Feet"),
            ("OPEN", "17 ft"),
            ("Open", "17ft"),
            ("open", "17-Feet"),
            ("Open", " open  17 FOOT "),
        ];
        for (vehicle_type, subtype) in same {
            assert_eq!(
                key(vehicle_type, subtype),
                "open_17_ft",
                "{vehicle_type} / {subtype}"
            );
        }
    }

    #[test]
    fn word_order_and_aliases_are_canonical() {
        assert_eq!(
            key("container", "32 Feet Single Axle"),
            key("Container", "Single Axle 32 Feet")
        );
        assert_eq!(key("container", "32 Feet Single Axle"), "cont_32_ft_s_ax");
        assert_eq!(key("tractor", "Double Trolley"), "tractor_d_trolley");
        assert_eq!(key("trailer", "8-11 Ton"), "trail_8_11_t");
        assert_eq!(key("open", "10 Wheeler"), key("open", "10-wheeler"));
    }

    #[test]
    fn different_trucks_have_different_keys() {
        assert_ne!(key("open", "17 Feet"), key("open", "19 Feet"));
        assert_ne!(key("open", "17 Feet"), key("container", "17 Feet"));
        assert_ne!(key("lcv", "LCV Open"), key("lcv", "LCV Container"));
    }

    #[test]
    fn an_empty_subtype_keys_on_the_type_and_an_empty_type_is_refused() {
        assert_eq!(key("mini", ""), "mini");
        assert_eq!(
            VehicleKey::new("  -- ", "17 Feet"),
            Err(VehicleKeyError::EmptyType)
        );
    }
}
