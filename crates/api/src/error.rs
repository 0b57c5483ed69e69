//! The one mapping from errors to HTTP.
//!
//! Which error to use where:
//! - The use cases (`weelo-dispatch`) answer [`DispatchError`], whose
//!   refusals carry an [`ErrorCode`]; the edge's own errors (auth, fleet,
//!   routing) become the same codes here.
//! - Handlers return `Result<_, ApiError>`; [`status_of`] is the only place
//!   a code becomes a status.
//! - A database that cannot be reached is `503 SERVICE_UNAVAILABLE`.
//!   Anything unexpected is an opaque `500 INTERNAL_ERROR`: its cause is logged
//!   here, once, and never sent to the client.
//!
//! Every error leaves as `{"success": false, "error": {"code", "message",
//! "details"?}}`; 429 also carries `Retry-After` and `error.retryAfterMs`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};
use weelo_dispatch::{DispatchError, ErrorCode};

use crate::auth::AuthError;

/// Every error the HTTP edge answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No route matches the request.
    #[error("route not found")]
    RouteNotFound,
    /// The method is none of the standard seven the routes answer (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is larger than the server accepts.
    #[error("request body exceeds {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// What a use case (or the edge, in the same terms) refused or failed with.
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
}

/// The status each code answers with: the one table of them.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::NotFound
        | C::VehicleNotFound
        | C::OnboardingNotFound
        | C::UserNotFound
        | C::DriverNotFound
        | C::OrderNotFound
        | C::HoldNotFound
        | C::BroadcastNotFound
        | C::AssignmentNotFound
        | C::TruckRequestNotFound
        | C::TripNotFound => StatusCode::NOT_FOUND,
        C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        C::ValidationError
        | C::InvalidOtp
        | C::OtpExpired
        | C::OtpMaxAttempts
        | C::OtpNotFound
        | C::MissingIdempotencyKey => StatusCode::BAD_REQUEST,
        C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::ServiceUnavailable | C::SmsBudgetExhausted | C::SmsUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        C::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        C::Unauthorized | C::TokenExpired | C::InvalidRefreshToken => StatusCode::UNAUTHORIZED,
        C::Forbidden | C::AccountDisabled | C::NotNotified | C::BroadcastDeclined => {
            StatusCode::FORBIDDEN
        }
        C::OtpRateLimitExceeded | C::OtpLocked | C::RateLimitExceeded | C::ToggleRateLimited => {
            StatusCode::TOO_MANY_REQUESTS
        }
        C::VehicleExists
        | C::VehicleInUse
        | C::DriverExists
        | C::DeviceTokenInUse
        | C::IdempotencyConflict
        | C::ActiveOrderExists
        | C::CancelBlocked
        | C::HoldNotActive
        | C::HoldAlreadyConfirmed
        | C::HoldExpired
        | C::BroadcastExpired
        | C::AssignmentValidationFailed
        | C::AssignmentConflict
        | C::AssignmentNotPending
        | C::AssignmentExpired
        | C::TruckNotAvailable
        | C::AlreadyHolding
        | C::NotEnoughAvailable
        | C::NotEnoughVehicles
        | C::InvalidTransition
        | C::AlreadyRated
        | C::TripNotCompleted
        | C::PriceStale
        | C::DriverNotVerified
        | C::DriverOnTrip => StatusCode::CONFLICT,
    }
}

impl ApiError {
    /// A validation failure tied to one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        DispatchError::invalid_field(field, message).into()
    }

    /// A validation failure of the request as a whole.
    pub fn invalid(message: impl Into<String>) -> Self {
        DispatchError::invalid(message).into()
    }

    /// A refusal without details.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        DispatchError::refused(code, message).into()
    }

    /// A refusal with the fields the client needs.
    pub fn refused_with(code: ErrorCode, message: impl Into<String>, details: Value) -> Self {
        DispatchError::refused_with(code, message, details).into()
    }

    /// Too many requests of one kind.
    pub fn rate_limited(code: ErrorCode, message: impl Into<String>, retry_after_ms: u64) -> Self {
        DispatchError::RateLimited {
            code,
            message: message.into(),
            retry_after_ms,
        }
        .into()
    }

    /// Something unexpected, with its cause for the log.
    pub fn internal(cause: impl Into<String>) -> Self {
        DispatchError::internal(cause).into()
    }

    /// The stable, machine-readable code the apps switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::RouteNotFound => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::Dispatch(error) => error.code(),
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            Self::Dispatch(DispatchError::Invalid {
                field: Some(field), ..
            }) => Some(json!({ "field": field })),
            Self::PayloadTooLarge { limit_bytes } => Some(json!({ "limitBytes": limit_bytes })),
            Self::Dispatch(DispatchError::Refused { details, .. }) => details.clone(),
            _ => None,
        }
    }

    fn log(&self) {
        match self {
            Self::Dispatch(DispatchError::Internal { cause }) => {
                tracing::error!(error.cause = %cause, "request failed with an internal error");
            }
            Self::Dispatch(DispatchError::Unavailable { cause }) => {
                tracing::warn!(error.cause = %cause, "request failed: a dependency is unavailable");
            }
            _ => {}
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut error = json!({ "code": self.code().as_str(), "message": self.to_string() });
        if let (Some(details), Some(object)) = (self.details(), error.as_object_mut()) {
            // The captain app reads a failed confirm's list as error.failedAssignments.
            if let Some(failed) = details.get("failedAssignments") {
                object.insert("failedAssignments".to_owned(), failed.clone());
            }
            object.insert("details".to_owned(), details);
        }
        let mut response = HttpResponse::build(self.status_code());
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if let Self::Dispatch(DispatchError::RateLimited { retry_after_ms, .. }) = self {
            if let Some(object) = error.as_object_mut() {
                object.insert("retryAfterMs".to_owned(), json!(retry_after_ms));
            }
            response.insert_header((header::RETRY_AFTER, retry_after_ms.div_ceil(1000).max(1)));
            // The captain app reads the wait of a refused toggle as data.cooldownMs.
            return response.json(json!({
                "success": false,
                "error": error,
                "data": { "cooldownMs": retry_after_ms },
            }));
        }
        response.json(json!({ "success": false, "error": error }))
    }
}

impl From<weelo_persistence::PersistenceError> for ApiError {
    fn from(error: weelo_persistence::PersistenceError) -> Self {
        DispatchError::from(error).into()
    }
}

/// The use cases' own refusals, through their codes.
macro_rules! through_dispatch {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for ApiError {
            fn from(error: $error) -> Self {
                DispatchError::from(error).into()
            }
        })*
    };
}

through_dispatch!(
    weelo_dispatch::orders::OrderError,
    weelo_dispatch::assignments::AssignmentError,
    weelo_dispatch::tracking::status::TripError,
    weelo_dispatch::fleet::FleetError,
    weelo_dispatch::tracking::ingest::IngestError,
);

impl<E: Into<DispatchError>> From<weelo_dispatch::idempotent::Tx<E>> for ApiError {
    fn from(failure: weelo_dispatch::idempotent::Tx<E>) -> Self {
        DispatchError::from(failure).into()
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let message = error.to_string();
        let limited =
            |code, retry_after_ms| Self::rate_limited(code, message.clone(), retry_after_ms);
        let code = match error {
            AuthError::MissingToken | AuthError::InvalidToken | AuthError::SessionEnded => {
                ErrorCode::Unauthorized
            }
            AuthError::TokenExpired => ErrorCode::TokenExpired,
            AuthError::InvalidRefreshToken => ErrorCode::InvalidRefreshToken,
            AuthError::WrongRole(_) => ErrorCode::Forbidden,
            AuthError::AccountDisabled => ErrorCode::AccountDisabled,
            AuthError::InvalidOtp => ErrorCode::InvalidOtp,
            AuthError::OtpExpired => ErrorCode::OtpExpired,
            AuthError::OtpMaxAttempts => ErrorCode::OtpMaxAttempts,
            AuthError::OtpNotRequested => ErrorCode::OtpNotFound,
            AuthError::OtpThrottled { retry_after_ms } => {
                return limited(ErrorCode::OtpRateLimitExceeded, retry_after_ms);
            }
            AuthError::OtpLocked { retry_after_ms } => {
                return limited(ErrorCode::OtpLocked, retry_after_ms);
            }
            AuthError::ClientRateLimited { retry_after_ms } => {
                return limited(ErrorCode::RateLimitExceeded, retry_after_ms);
            }
            AuthError::SmsBudgetExhausted => ErrorCode::SmsBudgetExhausted,
            AuthError::OtpSendFailed => ErrorCode::SmsUnavailable,
        };
        Self::refused(code, message)
    }
}
