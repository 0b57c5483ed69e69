//! What confirming a hold and answering an assignment can fail with, and
//! its mapping to HTTP (the one place these become statuses).

use serde_json::json;
use weelo_orders::HoldStatus;
use weelo_persistence::assignments::{AnswerRefused, ConfirmRefused, FailedPair};

use crate::{DispatchError, ErrorCode};

/// Assignment failures the caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum AssignmentError {
    /// No such hold of the transporter.
    #[error("no active hold with this id")]
    HoldNotFound,
    /// The hold is over (confirmed, released, expired or cancelled).
    #[error("this hold is no longer active ({status})")]
    HoldNotActive {
        /// Its status.
        status: String,
    },
    /// The hold's time ran out.
    #[error("this hold has expired; hold the trucks again")]
    HoldExpired,
    /// The order was cancelled, expired or filled.
    #[error("this request has expired or was cancelled")]
    OrderClosed,
    /// Not one pair per held truck.
    #[error("name exactly one vehicle and driver for each of the {held} held trucks")]
    CountMismatch {
        /// Trucks held.
        held: i32,
    },
    /// Some pairs cannot be assigned.
    #[error("{}", describe(.0))]
    Failed(Vec<FailedPair>),
    /// A vehicle or driver was taken by a concurrent confirm.
    #[error("this vehicle or driver was just assigned elsewhere")]
    Taken,
    /// No such assignment of the caller.
    #[error("assignment not found")]
    NotFound,
    /// It is no longer waiting for the driver.
    #[error("this assignment is no longer waiting for an answer ({status})")]
    NotPending {
        /// Its status.
        status: String,
    },
    /// The driver answered after the deadline.
    #[error("the time to answer this assignment has run out")]
    TooLate,
    /// No such truck request.
    #[error("truck request not found")]
    TruckNotFound,
    /// The order was never offered to this transporter.
    #[error("this order was not offered to you")]
    NotNotified,
    /// The transporter holds this line already (confirm that hold instead).
    #[error("you already hold trucks of this order line; confirm that hold")]
    AlreadyHolding,
    /// Another transporter took the truck first.
    #[error("this truck was just taken by another transporter")]
    TruckTaken,
}

fn describe(failed: &[FailedPair]) -> String {
    let text = failed
        .first()
        .map_or("an assignment cannot be made", |f| f.reason.describe());
    format!(
        "{text}; nothing was assigned ({} of the pairs failed)",
        failed.len()
    )
}

impl From<ConfirmRefused> for AssignmentError {
    fn from(refused: ConfirmRefused) -> Self {
        match refused {
            ConfirmRefused::HoldNotFound => Self::HoldNotFound,
            ConfirmRefused::HoldNotActive { status } => Self::HoldNotActive {
                status: status.as_str().to_owned(),
            },
            ConfirmRefused::HoldExpired => Self::HoldExpired,
            ConfirmRefused::OrderClosed => Self::OrderClosed,
            ConfirmRefused::CountMismatch { held } => Self::CountMismatch { held },
            ConfirmRefused::Failed(failed) => Self::Failed(failed),
        }
    }
}

impl From<AnswerRefused> for AssignmentError {
    fn from(refused: AnswerRefused) -> Self {
        match refused {
            AnswerRefused::NotFound => Self::NotFound,
            AnswerRefused::NotPending(found) => Self::NotPending {
                status: found.status.as_str().to_owned(),
            },
            AnswerRefused::TooLate => Self::TooLate,
        }
    }
}

/// A database error of a confirm: the live-assignment indexes tripping (a
/// race the row locks should already have settled) is a 409, not a 500.
pub fn from_race(error: diesel::result::Error) -> DispatchError {
    if let diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::UniqueViolation,
        info,
    ) = &error
        && info
            .constraint_name()
            .is_some_and(|name| name.starts_with("assignments_one_live"))
    {
        return AssignmentError::Taken.into();
    }
    error.into()
}

impl From<AssignmentError> for DispatchError {
    fn from(error: AssignmentError) -> Self {
        let message = error.to_string();
        let refused = |code| DispatchError::refused(code, message.clone());
        let with = |code, details| DispatchError::refused_with(code, message.clone(), details);
        match &error {
            AssignmentError::HoldNotFound => refused(ErrorCode::HoldNotFound),
            AssignmentError::NotFound => refused(ErrorCode::AssignmentNotFound),
            AssignmentError::HoldNotActive { status } => with(
                if status == HoldStatus::Confirmed.as_str() {
                    ErrorCode::HoldAlreadyConfirmed
                } else {
                    ErrorCode::HoldNotActive
                },
                json!({ "status": status }),
            ),
            AssignmentError::HoldExpired => refused(ErrorCode::HoldExpired),
            AssignmentError::OrderClosed => refused(ErrorCode::BroadcastExpired),
            AssignmentError::CountMismatch { held } => {
                DispatchError::invalid_field(format!("assignments (held {held})"), message)
            }
            AssignmentError::Failed(failed) => with(
                ErrorCode::AssignmentValidationFailed,
                json!({
                    "failedAssignments": failed.iter().map(|f| json!({
                        "vehicleId": f.vehicle_id, "driverId": f.driver_id, "reason": f.reason,
                    })).collect::<Vec<_>>(),
                }),
            ),
            AssignmentError::Taken => refused(ErrorCode::AssignmentConflict),
            AssignmentError::NotPending { status } => {
                with(ErrorCode::AssignmentNotPending, json!({ "status": status }))
            }
            AssignmentError::TooLate => refused(ErrorCode::AssignmentExpired),
            AssignmentError::TruckNotFound => refused(ErrorCode::TruckRequestNotFound),
            AssignmentError::NotNotified => refused(ErrorCode::NotNotified),
            AssignmentError::AlreadyHolding => refused(ErrorCode::AlreadyHolding),
            AssignmentError::TruckTaken => refused(ErrorCode::TruckNotAvailable),
        }
    }
}
