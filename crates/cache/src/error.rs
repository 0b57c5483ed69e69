//! Errors of the cache layer. Every caller degrades on them (falls back to
//! PostgreSQL or to local state); none is shown to a user as a 500.

/// What talking to Redis can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// No connection could be had in time.
    #[error("redis is unavailable: {0}")]
    Unavailable(String),
    /// A command failed.
    #[error("redis command failed: {0}")]
    Command(#[from] deadpool_redis::redis::RedisError),
    /// The pool could not be built from the settings.
    #[error("invalid redis settings: {0}")]
    Config(String),
}

impl From<deadpool_redis::PoolError> for CacheError {
    fn from(error: deadpool_redis::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}
