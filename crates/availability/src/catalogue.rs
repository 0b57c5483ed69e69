//! The vehicle catalogue the apps hard-code: the types customers may order
//! and transporters may register, and the subtypes offered for each.

use serde::Serialize;

/// One vehicle type with its subtypes, as `GET vehicles/types` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VehicleTypeEntry {
    /// The id the apps send as `vehicleType`.
    pub id: &'static str,
    /// A name for people.
    pub name: &'static str,
    /// The subtype display strings the apps send as `vehicleSubtype`.
    pub subtypes: &'static [&'static str],
}

/// Every vehicle type, in the order the apps show them.
pub const CATALOGUE: &[VehicleTypeEntry] = &[
    VehicleTypeEntry {
        id: "mini",
        name: "Mini / Pickup",
        subtypes: &[
            "Mini Truck - Tata Ace",
            "Pickup Truck - Dost",
            "Mahindra Bolero Pickup",
        ],
    },
    VehicleTypeEntry {
        id: "lcv",
        name: "LCV",
        subtypes: &[
            "LCV Open 14 Feet",
            "LCV Open 17 Feet",
            "LCV Open 19 Feet",
            "LCV Container 14 Feet",
            "LCV Container 17 Feet",
        ],
    },
    VehicleTypeEntry {
        id: "open",
        name: "Open Truck",
        subtypes: &[
            "14 Feet", "17 Feet", "19 Feet", "20 Feet", "22 Feet", "24 Feet",
        ],
    },
    VehicleTypeEntry {
        id: "container",
        name: "Container",
        subtypes: &[
            "19 Feet",
            "20 Feet",
            "24 Feet",
            "32 Feet Single Axle",
            "32 Feet Multi Axle",
        ],
    },
    VehicleTypeEntry {
        id: "trailer",
        name: "Trailer",
        subtypes: &[
            "8-11 Ton",
            "12-15 Ton",
            "16-19 Ton",
            "20-24 Ton",
            "25-31 Ton",
            "32-41 Ton",
            "42+ Ton",
        ],
    },
    VehicleTypeEntry {
        id: "tipper",
        name: "Tipper",
        subtypes: &[
            "9-11 Ton",
            "15-17 Ton",
            "18-19 Ton",
            "20-24 Ton",
            "25 Ton",
            "26-28 Ton",
            "29 Ton",
            "30 Ton",
        ],
    },
    VehicleTypeEntry {
        id: "tanker",
        name: "Tanker",
        subtypes: &[
            "8-11 Ton",
            "12-15 Ton",
            "16-20 Ton",
            "21-25 Ton",
            "26-29 Ton",
            "30-31 Ton",
            "32-35 Ton",
            "36 Ton",
        ],
    },
    VehicleTypeEntry {
        id: "bulker",
        name: "Bulker",
        subtypes: &[
            "20-22 Ton",
            "23-25 Ton",
            "26-28 Ton",
            "29-31 Ton",
            "32+ Ton",
        ],
    },
    VehicleTypeEntry {
        id: "dumper",
        name: "Dumper",
        subtypes: &[
            "9-11 Ton",
            "12-15 Ton",
            "16-19 Ton",
            "20-25 Ton",
            "26-30 Ton",
            "31+ Ton",
        ],
    },
    VehicleTypeEntry {
        id: "tractor",
        name: "Tractor",
        subtypes: &["Single Trolley", "Double Trolley"],
    },
];

/// The catalogue entry for a type id, matched case-insensitively.
pub fn vehicle_type(id: &str) -> Option<&'static VehicleTypeEntry> {
    CATALOGUE
        .iter()
        .find(|entry| entry.id.eq_ignore_ascii_case(id.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VehicleKey;

    #[test]
    fn types_are_found_whatever_their_case() {
        assert_eq!(vehicle_type("Open").map(|t| t.id), Some("open"));
        assert_eq!(vehicle_type(" LCV ").map(|t| t.id), Some("lcv"));
        assert!(vehicle_type("spaceship").is_none());
    }

    #[test]
    fn no_two_subtypes_of_a_type_share_a_key() {
        for entry in CATALOGUE {
            let mut keys: Vec<VehicleKey> = entry
                .subtypes
                .iter()
                .filter_map(|subtype| VehicleKey::new(entry.id, subtype).ok())
                .collect();
            let total = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), total, "type {}", entry.id);
            assert_eq!(total, entry.subtypes.len(), "type {}", entry.id);
        }
    }
}
