#![doc = include_str!("../README.md")]
//!
//! # Layout
//! - [`settings`]: the `[redis]` section of the configuration.
//! - [`client`]: the pool and the key prefix every key goes through.
//! - [`pool`]: connections checked only when idle or after a lost one.
//! - [`error`]: what this crate can fail with.
//! - [`rate_limit`]: sliding-window limits.
//! - [`lock`]: short owner-token locks that spare duplicate work.
//! - [`presence`]: presence hashes, the online set and the event stream.
//! - [`mirror`]: JSON snapshots written after commit, read before PostgreSQL.
//! - [`sockets`]: which users have a live socket on any instance.
//! - [`answers`]: outside providers' answers kept for a TTL.

#![deny(missing_docs)]

pub mod answers;
pub mod client;
pub mod error;
pub mod lock;
pub mod mirror;
pub mod pool;
pub mod presence;
pub mod rate_limit;
pub mod settings;
pub mod sockets;

pub use client::{Cache, TlsMode};
pub use error::CacheError;
pub use rate_limit::RateDecision;
pub use settings::RedisSettings;
