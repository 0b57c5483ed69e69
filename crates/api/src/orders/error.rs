//! What order calls can fail with. Mapped to HTTP in `crate::error`.

use uuid::Uuid;

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
