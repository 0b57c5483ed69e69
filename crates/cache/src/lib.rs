//! Redis, the fast mirror of weelo: caches, presence sharing, locks, the
//! idempotency cache, rate limits and pub/sub between instances.
//!
//! Nothing here is a source of truth: losing Redis degrades the service and
//! never corrupts it. It implements the cache traits `dispatch` defines; it
//! must not depend on diesel, actix or the HTTP edge.
//!
//! # Layout
//! - [`settings`]: the `[redis]` section of the configuration.
//! - [`client`]: the pool and the key prefix every key goes through.
//! - [`error`]: what this crate can fail with.

pub mod client;
pub mod error;
pub mod settings;

pub use client::{Cache, TlsMode};
pub use error::CacheError;
pub use settings::RedisSettings;
