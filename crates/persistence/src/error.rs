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
    /// Whether the database itself is out of reach (as opposed to a bad
    /// query): no connection in time, a connection lost in the middle of a
    /// request (a shutdown, a failover, an administrator's terminate), or a
    /// primary that became a read-only replica. Each is worth a retry.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::DatabaseErrorKind as Kind;
        match self {
            Self::Unavailable(_) => true,
            Self::Query(diesel::result::Error::BrokenTransactionManager) => true,
            Self::Query(diesel::result::Error::DatabaseError(kind, info)) => match kind {
                Kind::ClosedConnection | Kind::UnableToSendCommand | Kind::ReadOnlyTransaction => {
                    true
                }
                Kind::Unknown => connection_lost(info.message()),
                _ => false,
            },
            _ => false,
        }
    }
}

/// PostgreSQL's messages for its class 57P (operator intervention) and the
/// server going away: diesel reports them without their SQLSTATE.
fn connection_lost(message: &str) -> bool {
    const LOST: &[&str] = &[
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "the database system is not yet accepting connections",
        "server closed the connection",
        "connection closed",
    ];
    LOST.iter().any(|lost| message.contains(lost))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn database(kind: DatabaseErrorKind, message: &str) -> PersistenceError {
        PersistenceError::Query(Error::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn a_connection_lost_mid_request_is_unavailable_and_a_bad_query_is_not() {
        let lost = [
            database(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            database(DatabaseErrorKind::UnableToSendCommand, "connection closed"),
            database(
                DatabaseErrorKind::ReadOnlyTransaction,
                "cannot execute UPDATE in a read-only transaction",
            ),
            PersistenceError::Query(Error::BrokenTransactionManager),
        ];
        for error in lost {
            assert!(error.is_unavailable(), "{error}");
        }
        let bad = [
            database(
                DatabaseErrorKind::Unknown,
                "syntax error at or near \"SELEC\"",
            ),
            database(DatabaseErrorKind::UniqueViolation, "duplicate key value"),
            PersistenceError::Query(Error::NotFound),
        ];
        for error in bad {
            assert!(!error.is_unavailable(), "{error}");
        }
    }
}
