//! Orders: the create and cancel flows (validation,
//! idempotency, rate limit, one transaction each with its outbox event),
//! the apps' JSON shapes, and the expiry jobs (precise timers, the sweeper,
//! the cleanup job) that all call the one expiry function of `persistence`.
//!
//! The rules they apply (transitions, validation) live in `weelo-orders`.

pub mod batcher;
pub mod cancel_policy;
pub mod dto;
pub mod error;
pub mod expiry;
pub mod mirror;
pub mod queries;
pub mod service;
pub mod settings;
pub mod timers;
pub mod view;

pub use error::OrderError;
pub use expiry::Expiry;
pub use settings::OrderSettings;
