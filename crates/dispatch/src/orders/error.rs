//! What order calls can fail with, and the codes they carry.

use serde_json::json;
use uuid::Uuid;

use crate::{DispatchError, ErrorCode};

/// Order failures the customer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// A create without `X-Idempotency-Key`.
    #[error("the X-Idempotency-Key header is required")]
    MissingIdempotencyKey,
    /// The key was used with another body.
    #[error("this idempotency key was already used for a different request")]
    IdempotencyConflict,
    /// The customer already has a searching order.
    #[error("You already have an active order")]
    ActiveOrderExists {
        /// Its id.
        active_order_id: Option<Uuid>,
    },
    /// Too many creates in a minute.
    #[error("too many orders in a minute; try again shortly")]
    RateLimited {
        /// Until the next create may go.
        retry_after_ms: u64,
    },
    /// No such order of this customer.
    #[error("order not found")]
    OrderNotFound,
    /// A truck is in transit (or the order is done): too late to cancel.
    #[error("this order can no longer be cancelled: a truck is already on its way with the goods")]
    CancelBlocked {
        /// The order's status.
        status: String,
    },
}

impl From<OrderError> for DispatchError {
    fn from(error: OrderError) -> Self {
        let message = error.to_string();
        match error {
            OrderError::MissingIdempotencyKey => {
                DispatchError::refused(ErrorCode::MissingIdempotencyKey, message)
            }
            OrderError::IdempotencyConflict => {
                DispatchError::refused(ErrorCode::IdempotencyConflict, message)
            }
            OrderError::ActiveOrderExists { active_order_id } => DispatchError::refused_with(
                ErrorCode::ActiveOrderExists,
                message,
                json!({ "activeOrderId": active_order_id }),
            ),
            OrderError::RateLimited { retry_after_ms } => DispatchError::RateLimited {
                code: ErrorCode::RateLimitExceeded,
                message,
                retry_after_ms,
            },
            OrderError::OrderNotFound => DispatchError::refused(ErrorCode::OrderNotFound, message),
            OrderError::CancelBlocked { status } => DispatchError::refused_with(
                ErrorCode::CancelBlocked,
                message,
                json!({ "status": status }),
            ),
        }
    }
}
