//! Orders, truck requests, holds and assignments: their types, statuses and
//! transition rules, and the validation of order input.
//!
//! This crate is pure domain. It must not depend on diesel, actix, redis or
//! any I/O: `make lint` proves it with `cargo tree -i`.
