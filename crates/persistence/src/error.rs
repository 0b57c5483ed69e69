//! Errors of the storage layer. Callers map [`PersistenceError::Unavailable`]
//! to 503; everything else is unexpected and becomes an opaque 500.

/// What talking to PostgreSQL can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistenceError {
    /// No connection could be had in time: the database is down or saturated.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// Migrations could not be applied.
    #[error("migrations failed: {0}")]
    Migration(String),
    /// The pool could not be built from the settings.
    #[error("invalid database settings: {0}")]
    Config(String),
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for PersistenceError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl PersistenceError {
    /// Whether the database itself is out of reach (as opposed to a bad query).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Query(diesel::result::Error::DatabaseError(kind, _)) => {
                matches!(kind, diesel::result::DatabaseErrorKind::ClosedConnection)
            }
            _ => false,
        }
    }
}
