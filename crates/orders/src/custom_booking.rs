//! A custom long-term booking request's statuses (the Custom tab): the
//! operator reviews, approves or rejects it; the customer may cancel it
//! until a decision.

use serde::Serialize;

/// Where a custom booking request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomBookingStatus {
    /// Sent, not yet looked at.
    Pending,
    /// Being reviewed.
    UnderReview,
    /// Accepted by the operator.
    Approved,
    /// Turned down by the operator.
    Rejected,
    /// Its period is over.
    Completed,
    /// Withdrawn by the customer.
    Cancelled,
}

/// Every status.
pub const CUSTOM_BOOKING_STATUSES: [CustomBookingStatus; 6] = [
    CustomBookingStatus::Pending,
    CustomBookingStatus::UnderReview,
    CustomBookingStatus::Approved,
    CustomBookingStatus::Rejected,
    CustomBookingStatus::Completed,
    CustomBookingStatus::Cancelled,
];

impl CustomBookingStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::UnderReview => "under_review",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        CUSTOM_BOOKING_STATUSES
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// Whether the customer may still withdraw it (no decision yet).
    pub fn is_cancellable(self) -> bool {
        matches!(self, Self::Pending | Self::UnderReview)
    }
}

/// The statuses a customer's cancel may move from.
pub const CANCELLABLE: [CustomBookingStatus; 2] = [
    CustomBookingStatus::Pending,
    CustomBookingStatus::UnderReview,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_undecided_requests_cancel() {
        for status in CUSTOM_BOOKING_STATUSES {
            assert_eq!(CustomBookingStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.is_cancellable(), CANCELLABLE.contains(&status));
        }
        assert_eq!(CustomBookingStatus::parse("approved "), None);
    }
}
