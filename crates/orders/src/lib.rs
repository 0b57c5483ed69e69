//! Orders, truck requests, holds and assignments: their types, statuses and
//! transition rules, and the validation of order input.
//!
//! This crate is pure domain. It must not depend on diesel, actix, redis or
//! any I/O: `make lint` proves it with `cargo tree -i`.
//!
//! # Layout
//! - [`clock`]: the one source of "now", so time rules are tested with a
//!   clock the test moves, never with sleeps.

pub mod clock;

pub use clock::{Clock, ManualClock, SystemClock};
