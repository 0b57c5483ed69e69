#![doc = include_str!("../README.md")]
//!
//! # Layout
//! - [`vehicle_key`]: the canonical key of a (type, subtype) pair.
//! - [`catalogue`]: the vehicle types and subtypes the apps offer.
//! - [`geo`]: points and haversine distances.
//! - [`gazetteer`]: India's towns and localities, searched by name prefix
//!   and by nearest point (the embedded places provider).
//! - [`index`]: the geohash cell index and its exact k-nearest search.
//! - [`vehicle_status`]: where a fleet vehicle is, with its transition table.

#![deny(missing_docs)]

pub mod catalogue;
pub mod gazetteer;
pub mod geo;
pub mod index;
pub mod vehicle_key;
pub mod vehicle_status;

pub use catalogue::{CATALOGUE, VehicleTypeEntry, vehicle_type};
pub use geo::Point;
pub use index::{Nearby, ProximityIndex, Query};
pub use vehicle_key::{VehicleKey, VehicleKeyError};
pub use vehicle_status::VehicleStatus;
