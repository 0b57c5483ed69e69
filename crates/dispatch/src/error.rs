//! What a use case can fail with: [`DispatchError`], and the [`ErrorCode`]
//! every refusal carries, the one list of the codes the apps switch on.
//!
//! Which status a code answers with is the HTTP edge's business (one table in
//! `weelo-api`); here a refusal only says what happened and what the caller
//! can do about it.

use serde_json::Value;
use weelo_cache::CacheError;
use weelo_persistence::PersistenceError;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// A stable, machine-readable error code (`error.code` on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The code as the apps read it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $text,)*
                }
            }
        }
    };
}

error_codes! {
    /// No route, or no such object of the caller's.
    NotFound = "NOT_FOUND",
    /// A method none of the routes answer.
    MethodNotAllowed = "METHOD_NOT_ALLOWED",
    /// Malformed input or a broken rule; `details.field` names where.
    ValidationError = "VALIDATION_ERROR",
    /// The body is larger than the server accepts.
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    /// A dependency is down or saturated.
    ServiceUnavailable = "SERVICE_UNAVAILABLE",
    /// Something unexpected (its cause is logged, never sent).
    InternalError = "INTERNAL_ERROR",
    /// No or a bad access token.
    Unauthorized = "UNAUTHORIZED",
    /// The access token's time is over.
    TokenExpired = "TOKEN_EXPIRED",
    /// The refresh token is unknown, used or expired.
    InvalidRefreshToken = "INVALID_REFRESH_TOKEN",
    /// The caller's role may not do this.
    Forbidden = "FORBIDDEN",
    /// The account is deactivated.
    AccountDisabled = "ACCOUNT_DISABLED",
    /// A wrong OTP.
    InvalidOtp = "INVALID_OTP",
    /// The OTP's time is over.
    OtpExpired = "OTP_EXPIRED",
    /// Too many wrong guesses of one OTP.
    OtpMaxAttempts = "OTP_MAX_ATTEMPTS",
    /// No OTP was sent to this phone.
    OtpNotFound = "OTP_NOT_FOUND",
    /// OTPs sent too often to one phone.
    OtpRateLimitExceeded = "OTP_RATE_LIMIT_EXCEEDED",
    /// The phone is locked after too many wrong guesses.
    OtpLocked = "OTP_LOCKED",
    /// Too many calls of one kind.
    RateLimitExceeded = "RATE_LIMIT_EXCEEDED",
    /// The service's SMS budget is spent for now.
    SmsBudgetExhausted = "SMS_BUDGET_EXHAUSTED",
    /// The SMS provider failed; the OTP was not sent and the phone's
    /// cooldown is not used up.
    SmsUnavailable = "SMS_UNAVAILABLE",
    /// The vehicle number is registered already.
    VehicleExists = "VEHICLE_EXISTS",
    /// The vehicle is on a trip.
    VehicleInUse = "VEHICLE_IN_USE",
    /// The phone is a driver already.
    DriverExists = "DRIVER_EXISTS",
    /// No such vehicle of the caller's.
    VehicleNotFound = "VEHICLE_NOT_FOUND",
    /// No onboarding in progress for this phone.
    OnboardingNotFound = "ONBOARDING_NOT_FOUND",
    /// No such user.
    UserNotFound = "USER_NOT_FOUND",
    /// No such driver in the caller's fleet.
    DriverNotFound = "DRIVER_NOT_FOUND",
    /// The device token belongs to another user's device.
    DeviceTokenInUse = "DEVICE_TOKEN_IN_USE",
    /// An online toggle too soon after the last.
    ToggleRateLimited = "TOGGLE_RATE_LIMITED",
    /// A create without `X-Idempotency-Key`.
    MissingIdempotencyKey = "MISSING_IDEMPOTENCY_KEY",
    /// The idempotency key answered another body.
    IdempotencyConflict = "IDEMPOTENCY_CONFLICT",
    /// The customer has a searching order already.
    ActiveOrderExists = "ACTIVE_ORDER_EXISTS",
    /// No such order of the caller's.
    OrderNotFound = "ORDER_NOT_FOUND",
    /// Too late to cancel.
    CancelBlocked = "CANCEL_BLOCKED",
    /// No such hold of the transporter's.
    HoldNotFound = "HOLD_NOT_FOUND",
    /// The hold is over.
    HoldNotActive = "HOLD_NOT_ACTIVE",
    /// The hold was confirmed already.
    HoldAlreadyConfirmed = "HOLD_ALREADY_CONFIRMED",
    /// The hold's time ran out.
    HoldExpired = "HOLD_EXPIRED",
    /// The order was cancelled, expired or filled.
    BroadcastExpired = "BROADCAST_EXPIRED",
    /// The order was never offered to the caller, or is gone.
    BroadcastNotFound = "BROADCAST_NOT_FOUND",
    /// The transporter declined this order.
    BroadcastDeclined = "BROADCAST_DECLINED",
    /// Some vehicle–driver pairs cannot be assigned.
    AssignmentValidationFailed = "ASSIGNMENT_VALIDATION_FAILED",
    /// A vehicle or driver was just assigned elsewhere.
    AssignmentConflict = "ASSIGNMENT_CONFLICT",
    /// No such assignment of the caller's.
    AssignmentNotFound = "ASSIGNMENT_NOT_FOUND",
    /// The assignment no longer waits for an answer.
    AssignmentNotPending = "ASSIGNMENT_NOT_PENDING",
    /// The driver's time to answer ran out.
    AssignmentExpired = "ASSIGNMENT_EXPIRED",
    /// No such truck request.
    TruckRequestNotFound = "TRUCK_REQUEST_NOT_FOUND",
    /// Another transporter took the truck first.
    TruckNotAvailable = "TRUCK_NOT_AVAILABLE",
    /// The order was not offered to the caller.
    NotNotified = "NOT_NOTIFIED",
    /// The caller holds this order line already.
    AlreadyHolding = "ALREADY_HOLDING",
    /// Fewer trucks are searching than asked for.
    NotEnoughAvailable = "NOT_ENOUGH_AVAILABLE",
    /// The transporter has fewer free vehicles than asked for.
    NotEnoughVehicles = "NOT_ENOUGH_VEHICLES",
    /// No such trip of the driver's.
    TripNotFound = "TRIP_NOT_FOUND",
    /// A trip status that does not follow from the current one.
    InvalidTransition = "INVALID_TRANSITION",
    /// The trip was rated already, differently.
    AlreadyRated = "ALREADY_RATED",
    /// Only a completed trip is rated.
    TripNotCompleted = "TRIP_NOT_COMPLETED",
    /// A price quote expired, was altered or was for another trip;
    /// `details.pricing` is a fresh one.
    PriceStale = "PRICE_STALE",
    /// A driver's KYC is not approved (`kyc.require_verified_driver`).
    DriverNotVerified = "DRIVER_NOT_VERIFIED",
    /// A driver with a trip offered or under way cannot leave its fleet.
    DriverOnTrip = "DRIVER_ON_TRIP",
}

/// A failed use case.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The input is malformed or breaks a rule; `field` names where.
    #[error("{message}")]
    Invalid {
        /// What is wrong, for a person.
        message: String,
        /// The offending field's path (`vehicles[0].quantity`), when known.
        field: Option<String>,
    },
    /// A rule or the current state refuses the request.
    #[error("{message}")]
    Refused {
        /// What the apps switch on.
        code: ErrorCode,
        /// For a person.
        message: String,
        /// Extra fields the client needs (the active order's id…).
        details: Option<Value>,
    },
    /// Too many requests; a retry after `retry_after_ms` may succeed.
    #[error("{message}")]
    RateLimited {
        /// What the apps switch on.
        code: ErrorCode,
        /// For a person.
        message: String,
        /// Until a retry may succeed.
        retry_after_ms: u64,
    },
    /// A dependency the request needs is down or saturated.
    #[error("service temporarily unavailable")]
    Unavailable {
        /// What was unavailable, for the log only.
        cause: String,
    },
    /// Something unexpected; the cause is logged and never sent.
    #[error("internal server error")]
    Internal {
        /// What went wrong, for the log only.
        cause: String,
    },
}

impl DispatchError {
    /// A validation failure tied to one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A validation failure of the request as a whole.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            field: None,
        }
    }

    /// A refusal without details.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// A refusal with the fields the client needs.
    pub fn refused_with(code: ErrorCode, message: impl Into<String>, details: Value) -> Self {
        Self::Refused {
            code,
            message: message.into(),
            details: Some(details),
        }
    }

    /// Something unexpected, with its cause for the log.
    pub fn internal(cause: impl Into<String>) -> Self {
        Self::Internal {
            cause: cause.into(),
        }
    }

    /// The code the apps switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::ValidationError,
            Self::Refused { code, .. } | Self::RateLimited { code, .. } => *code,
            Self::Unavailable { .. } => ErrorCode::ServiceUnavailable,
            Self::Internal { .. } => ErrorCode::InternalError,
        }
    }
}

impl From<PersistenceError> for DispatchError {
    fn from(error: PersistenceError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable {
                cause: error.to_string(),
            }
        } else {
            Self::Internal {
                cause: error.to_string(),
            }
        }
    }
}

impl From<CacheError> for DispatchError {
    fn from(error: CacheError) -> Self {
        // Callers are expected to degrade on cache errors; one that reaches
        // the edge is a bug, not an outage to show the client.
        Self::Internal {
            cause: error.to_string(),
        }
    }
}

impl From<diesel::result::Error> for DispatchError {
    fn from(error: diesel::result::Error) -> Self {
        PersistenceError::from(error).into()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::ErrorCode;

    #[test]
    fn every_code_is_spelled_once_in_upper_snake_case() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{text}"
            );
        }
        assert_eq!(seen.len(), ErrorCode::ALL.len());
    }
}
