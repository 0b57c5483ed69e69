//! Who can take a truck, and where: vehicle keys, presence (online, heartbeat,
//! staleness) and the geohash proximity index with its k-nearest search in
//! radius steps.
//!
//! This crate is pure domain. It must not depend on diesel, actix, redis or
//! any I/O: `make lint` proves it with `cargo tree -i`.
