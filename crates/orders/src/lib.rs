#![doc = include_str!("../README.md")]
//!
//! # Layout
//! - [`clock`]: the one source of "now", so time rules are tested with a
//!   clock the test moves, never with sleeps.
//! - [`status`]: order and truck statuses with their transition tables.
//! - [`input`]: the create-order body and its validation.
//! - [`assignment`]: assignment statuses with their transition table.
//! - [`filling`]: how an order's figures move when trucks are taken or
//!   given back.
//! - [`hold`]: hold statuses with their transition table, and an order's
//!   dispatch state.
//! - [`pairing`]: whether a hold may be confirmed, and a vehicle and a
//!   driver take a held truck.
//! - [`role`]: [`Role`], the three kinds of account.
//! - [`custom_booking`]: a custom long-term booking request's statuses.
//! - [`cancel_policy`]: what a customer's cancel costs at each stage.
//! - [`pricing`]: prices from the rate card in `config/pricing.toml`.

#![deny(missing_docs)]

pub mod assignment;
pub mod cancel_policy;
pub mod clock;
pub mod custom_booking;
pub mod filling;
pub mod hold;
pub mod input;
pub mod pairing;
pub mod pricing;
pub mod role;
pub mod status;

pub use assignment::AssignmentStatus;
pub use clock::{Clock, ManualClock, SystemClock};
pub use custom_booking::CustomBookingStatus;
pub use hold::{DispatchState, HoldStatus};
pub use input::{OrderDraft, OrderInputError, ValidOrder};
pub use role::Role;
pub use status::{OrderStatus, TruckStatus};
