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

/// Every error the HTTP edge answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No route matches the request.
    #[error("route not found")]
    RouteNotFound,
    /// The input is malformed or breaks a rule; `field` names where.
    #[error("{message}")]
    Validation {
        /// What is wrong, for a person.
        message: String,
        /// The offending field's path (`vehicles[0].quantity`), when known.
        field: Option<String>,
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
            Self::Validation { .. } => "VALIDATION_ERROR",
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
            Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::Validation { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ServiceUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut error = json!({ "code": self.code(), "message": self.to_string() });
        if let (Some(details), Some(object)) = (self.details(), error.as_object_mut()) {
            object.insert("details".to_owned(), details);
        }
        let mut response = HttpResponse::build(self.status_code());
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
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
