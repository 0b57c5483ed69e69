//! The one mapping from errors to HTTP.
//!
//! Which error to use where:
//! - Domain and infrastructure crates return their own `thiserror` enums
//!   (`PersistenceError`, `CacheError`, later the dispatch errors). They know
//!   nothing of HTTP.
//! - Handlers return `Result<_, ApiError>`; `?` converts those enums through
//!   the `From` impls below, which is the only place a status is chosen.
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
use weelo_cache::CacheError;
use weelo_persistence::PersistenceError;

use crate::auth::AuthError;
use crate::fleet::FleetError;
use crate::orders::OrderError;

/// Every error the HTTP edge answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No route matches the request.
    #[error("route not found")]
    RouteNotFound,
    /// The method is none of the standard seven the routes answer (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The input is malformed or breaks a rule; `field` names where.
    #[error("{message}")]
    Validation {
        /// What is wrong, for a person.
        message: String,
        /// The offending field's path (`vehicles[0].quantity`), when known.
        field: Option<String>,
    },
    /// The caller is not authenticated (401).
    #[error("{message}")]
    Unauthorized {
        /// Machine-readable code.
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// The caller may not do this at all (403).
    #[error("{message}")]
    Forbidden {
        /// Machine-readable code.
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// The object does not exist, or is not the caller's (404).
    #[error("{message}")]
    NotFound {
        /// Machine-readable code (`VEHICLE_NOT_FOUND`…).
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// The request clashes with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// For a person.
        message: String,
        /// Extra fields the client needs (the active order's id…).
        details: Option<Value>,
    },
    /// A well-formed request that a business rule refuses (400 with its own code).
    #[error("{message}")]
    Rejected {
        /// Machine-readable code (`INVALID_OTP`…).
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// Too many requests (429, with `Retry-After` and `error.retryAfterMs`).
    #[error("{message}")]
    RateLimited {
        /// Machine-readable code.
        code: &'static str,
        /// For a person.
        message: String,
        /// Until a retry may succeed.
        retry_after_ms: u64,
    },
    /// The body is larger than the server accepts.
    #[error("request body exceeds {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// A dependency the request needs is down or saturated.
    #[error("service temporarily unavailable")]
    ServiceUnavailable {
        /// What was unavailable, for the log only.
        cause: String,
    },
    /// A limit of the whole service is reached for now (503 with its own
    /// code and `Retry-After`).
    #[error("{message}")]
    Overloaded {
        /// Machine-readable code (`SMS_BUDGET_EXHAUSTED`).
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// Something unexpected; the cause is logged and never sent.
    #[error("internal server error")]
    Internal {
        /// What went wrong, for the log only.
        cause: String,
    },
}

impl ApiError {
    /// A validation failure tied to one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A validation failure of the request as a whole.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
            field: None,
        }
    }

    /// The stable, machine-readable code the apps switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RouteNotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Validation { .. } => "VALIDATION_ERROR",
            Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Rejected { code, .. }
            | Self::RateLimited { code, .. }
            | Self::Overloaded { code, .. } => code,
            Self::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::ServiceUnavailable { .. } => "SERVICE_UNAVAILABLE",
            Self::Internal { .. } => "INTERNAL_ERROR",
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            Self::Validation {
                field: Some(field), ..
            } => Some(json!({ "field": field })),
            Self::PayloadTooLarge { limit_bytes } => Some(json!({ "limitBytes": limit_bytes })),
            Self::Conflict { details, .. } => details.clone(),
            _ => None,
        }
    }

    fn log(&self) {
        match self {
            Self::Internal { cause } => {
                tracing::error!(error.cause = %cause, "request failed with an internal error");
            }
            Self::ServiceUnavailable { cause } => {
                tracing::warn!(error.cause = %cause, "request failed: a dependency is unavailable");
            }
            _ => {}
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::RouteNotFound | Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Validation { .. } | Self::Rejected { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ServiceUnavailable { .. } | Self::Overloaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut error = json!({ "code": self.code(), "message": self.to_string() });
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
        if let Self::RateLimited { retry_after_ms, .. } = self {
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

impl From<PersistenceError> for ApiError {
    fn from(error: PersistenceError) -> Self {
        if error.is_unavailable() {
            Self::ServiceUnavailable {
                cause: error.to_string(),
            }
        } else {
            Self::Internal {
                cause: error.to_string(),
            }
        }
    }
}

impl From<CacheError> for ApiError {
    fn from(error: CacheError) -> Self {
        // Callers are expected to degrade on cache errors; one that reaches the
        // edge is a bug, not an outage to show the client.
        Self::Internal {
            cause: error.to_string(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        PersistenceError::from(error).into()
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let message = error.to_string();
        let unauthorized = |code| Self::Unauthorized {
            code,
            message: message.clone(),
        };
        let rejected = |code| Self::Rejected {
            code,
            message: message.clone(),
        };
        match error {
            AuthError::MissingToken | AuthError::InvalidToken | AuthError::SessionEnded => {
                unauthorized("UNAUTHORIZED")
            }
            AuthError::TokenExpired => unauthorized("TOKEN_EXPIRED"),
            AuthError::InvalidRefreshToken => unauthorized("INVALID_REFRESH_TOKEN"),
            AuthError::WrongRole(_) => Self::Forbidden {
                code: "FORBIDDEN",
                message,
            },
            AuthError::AccountDisabled => Self::Forbidden {
                code: "ACCOUNT_DISABLED",
                message,
            },
            AuthError::InvalidOtp => rejected("INVALID_OTP"),
            AuthError::OtpExpired => rejected("OTP_EXPIRED"),
            AuthError::OtpMaxAttempts => rejected("OTP_MAX_ATTEMPTS"),
            AuthError::OtpNotRequested => rejected("OTP_NOT_FOUND"),
            AuthError::OtpThrottled { retry_after_ms } => Self::RateLimited {
                code: "OTP_RATE_LIMIT_EXCEEDED",
                message,
                retry_after_ms,
            },
            AuthError::OtpLocked { retry_after_ms } => Self::RateLimited {
                code: "OTP_LOCKED",
                message,
                retry_after_ms,
            },
            AuthError::ClientRateLimited { retry_after_ms } => Self::RateLimited {
                code: "RATE_LIMIT_EXCEEDED",
                message,
                retry_after_ms,
            },
            AuthError::SmsBudgetExhausted => Self::Overloaded {
                code: "SMS_BUDGET_EXHAUSTED",
                message,
            },
            AuthError::OtpSendFailed => Self::ServiceUnavailable { cause: message },
        }
    }
}

impl From<FleetError> for ApiError {
    fn from(error: FleetError) -> Self {
        let message = error.to_string();
        match error {
            FleetError::VehicleExists => Self::Conflict {
                code: "VEHICLE_EXISTS",
                message,
                details: None,
            },
            FleetError::VehicleInUse => Self::Conflict {
                code: "VEHICLE_IN_USE",
                message,
                details: None,
            },
            FleetError::DriverExists => Self::Conflict {
                code: "DRIVER_EXISTS",
                message,
                details: None,
            },
            FleetError::VehicleNotFound => Self::NotFound {
                code: "VEHICLE_NOT_FOUND",
                message,
            },
            FleetError::OnboardingNotFound => Self::NotFound {
                code: "ONBOARDING_NOT_FOUND",
                message,
            },
            FleetError::UserNotFound => Self::NotFound {
                code: "USER_NOT_FOUND",
                message,
            },
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(error: OrderError) -> Self {
        let message = error.to_string();
        match error {
            OrderError::MissingIdempotencyKey => Self::Rejected {
                code: "MISSING_IDEMPOTENCY_KEY",
                message,
            },
            OrderError::IdempotencyConflict => Self::Conflict {
                code: "IDEMPOTENCY_CONFLICT",
                message,
                details: None,
            },
            OrderError::ActiveOrderExists { active_order_id } => Self::Conflict {
                code: "ACTIVE_ORDER_EXISTS",
                message,
                details: Some(json!({ "activeOrderId": active_order_id })),
            },
            OrderError::RateLimited { retry_after_ms } => Self::RateLimited {
                code: "RATE_LIMIT_EXCEEDED",
                message,
                retry_after_ms,
            },
            OrderError::OrderNotFound => Self::NotFound {
                code: "ORDER_NOT_FOUND",
                message,
            },
            OrderError::CancelBlocked { status } => Self::Conflict {
                code: "CANCEL_BLOCKED",
                message,
                details: Some(json!({ "status": status })),
            },
        }
    }
}
