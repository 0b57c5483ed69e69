//! Test support (dev-only): every test gets a PostgreSQL database of its own,
//! cloned from a migrated template, and a Redis key prefix of its own, so tests
//! run in parallel and leave nothing behind. Tests that stop or restart Redis
//! get a server of their own on a free port ([`RedisServer`]) and never touch
//! the machine's shared one; so do tests that need PostgreSQL configured
//! otherwise ([`PostgresServer`]: TLS only). Tests of S3 storage get a
//! bucket of their own ([`TestBucket`]).
//!
//! The shared servers are the ones `config/test.toml` names (and the
//! `APP_DATABASE__URL` / `APP_REDIS__URL` overrides).

mod bucket;
mod database;
mod folder;
mod postgres;
mod redis;
mod settings;

pub use bucket::TestBucket;
pub use database::TestDb;
pub use folder::TestFolder;
pub use postgres::PostgresServer;
pub use redis::{RedisServer, TestRedis};
pub use settings::{TestServers, config_dir, config_section, rate_card};
