//! The places provider trait: what Google, the open services and the
//! embedded gazetteer each implement, and how a call can fail.

use futures_util::future::BoxFuture;
use weelo_availability::Point;

use super::types::{Address, Hit, Route, SearchQuery, Source};

/// Why a provider gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Down, slow, 5xx or unreachable: the breaker counts it.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// Over its quota or rate (429, `OVER_QUERY_LIMIT`).
    #[error("the provider's quota is spent: {0}")]
    Quota(String),
    /// It refused the call or answered nonsense (a bad key, a 4xx).
    #[error("the provider refused: {0}")]
    Refused(String),
}

/// A maps provider.
pub trait PlacesProvider: Send + Sync {
    /// Who it is.
    fn source(&self) -> Source;

    /// Places matching `query`.
    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<Vec<Hit>, ProviderError>>;

    /// The address at `point`, if it knows one.
    fn reverse(&self, point: Point) -> BoxFuture<'_, Result<Option<Address>, ProviderError>>;

    /// A driving route through `points` (two or more), for a truck of
    /// `vehicle_type` when given.
    fn route<'a>(
        &'a self,
        points: &'a [Point],
        vehicle_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Route, ProviderError>>;
}

/// Sorts a reqwest failure: timeouts, connection errors and 5xx are
/// unavailability, 429 is quota, other statuses are refusals.
pub(crate) fn from_status(status: reqwest::StatusCode, what: &str) -> ProviderError {
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        ProviderError::Quota(format!("{what}: {status}"))
    } else if status.is_server_error() {
        ProviderError::Unavailable(format!("{what}: {status}"))
    } else {
        ProviderError::Refused(format!("{what}: {status}"))
    }
}

/// A transport failure (no answer at all).
pub(crate) fn from_transport(error: &reqwest::Error, what: &str) -> ProviderError {
    ProviderError::Unavailable(format!("{what}: {error}"))
}
