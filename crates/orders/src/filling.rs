//! How an order's figures move when trucks are taken or given back: pure
//! decisions the confirm and the driver's decline or time-out apply in
//! their transactions.

use crate::{DispatchState, OrderStatus};

/// An order's figures after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filling {
    /// Its status.
    pub status: OrderStatus,
    /// Where its search stands.
    pub dispatch: DispatchState,
    /// Trucks with a driver named.
    pub trucks_filled: i32,
    /// Trucks it still wants in all.
    pub total_trucks: i32,
}

/// After a confirm of `quantity` held trucks: fully filled ends the
/// search; otherwise it goes on.
pub fn after_confirm(
    dispatch: DispatchState,
    trucks_filled: i32,
    total_trucks: i32,
    quantity: i32,
) -> Filling {
    let filled = trucks_filled + quantity;
    let full = filled >= total_trucks;
    Filling {
        status: if full {
            OrderStatus::FullyFilled
        } else {
            OrderStatus::PartiallyFilled
        },
        dispatch: if full {
            DispatchState::Finished
        } else {
            dispatch
        },
        trucks_filled: filled,
        total_trucks,
    }
}

/// What happens to a truck whose driver declined or did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GivenBack {
    /// The truck searches again (otherwise it expires).
    pub reopened: bool,
    /// The order's figures after.
    pub filling: Filling,
    /// The order ended with it: its last truck expired unfilled.
    pub order_expired: bool,
}

/// A truck given back by its driver: it searches again while the order's
/// window is open and no other order of the customer searches (the
/// one-searching-order rule), and expires otherwise; an order left with no
/// truck expires.
pub fn after_giving_back(
    status: OrderStatus,
    dispatch: DispatchState,
    trucks_filled: i32,
    total_trucks: i32,
    window_open: bool,
    another_searches: bool,
) -> GivenBack {
    let open = window_open
        && matches!(
            status,
            OrderStatus::Broadcasting
                | OrderStatus::Active
                | OrderStatus::PartiallyFilled
                | OrderStatus::FullyFilled
        );
    let reopened = open && (status.is_searching() || !another_searches);
    let filled = (trucks_filled - 1).max(0);
    let total = if reopened {
        total_trucks
    } else {
        total_trucks - 1
    };
    let status = if reopened {
        if filled == 0 {
            OrderStatus::Active
        } else {
            OrderStatus::PartiallyFilled
        }
    } else if total == 0 {
        OrderStatus::Expired
    } else {
        status
    };
    GivenBack {
        reopened,
        filling: Filling {
            status,
            dispatch: if reopened {
                DispatchState::Broadcasting
            } else {
                dispatch
            },
            trucks_filled: filled,
            total_trucks: total.max(1),
        },
        order_expired: total == 0,
    }
}

/// Why an order ended without every truck filled (`orders.reason_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The window ended with some trucks taken; those run.
    PartialFillTimeout,
    /// Nobody was online near the pickup.
    NoOnlineTransporters,
    /// Transporters were told; none took a truck in time.
    NoTransporterAcceptance,
    /// The last truck's driver declined or did not answer after the window.
    NoDriverAcceptance,
    /// The customer cancelled.
    CustomerCancelled,
}

const END_REASONS: [EndReason; 5] = [
    EndReason::PartialFillTimeout,
    EndReason::NoOnlineTransporters,
    EndReason::NoTransporterAcceptance,
    EndReason::NoDriverAcceptance,
    EndReason::CustomerCancelled,
];

impl EndReason {
    /// Why the window of an order with these figures ended.
    pub fn of_expiry(trucks_filled: i32, notified_transporters: i32) -> Self {
        if trucks_filled > 0 {
            Self::PartialFillTimeout
        } else if notified_transporters == 0 {
            Self::NoOnlineTransporters
        } else {
            Self::NoTransporterAcceptance
        }
    }

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PartialFillTimeout => "PARTIAL_FILL_TIMEOUT",
            Self::NoOnlineTransporters => "NO_ONLINE_TRANSPORTERS",
            Self::NoTransporterAcceptance => "NO_TRANSPORTER_ACCEPTANCE",
            Self::NoDriverAcceptance => "NO_DRIVER_ACCEPTANCE",
            Self::CustomerCancelled => "CUSTOMER_CANCELLED",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        END_REASONS.into_iter().find(|r| r.as_str() == code)
    }

    /// What the customer reads.
    pub fn message(self) -> &'static str {
        match self {
            Self::PartialFillTimeout => "The search ended; the trucks already assigned will run",
            Self::NoOnlineTransporters => "No transporters were online near the pickup",
            Self::NoTransporterAcceptance => "No transporter accepted in time",
            Self::NoDriverAcceptance => "No driver accepted before the search ended",
            Self::CustomerCancelled => "The customer cancelled this order",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrderStatus::*;

    #[test]
    fn a_confirm_fills_the_order_or_leaves_it_searching() {
        let partly = after_confirm(DispatchState::Broadcasting, 0, 3, 2);
        assert_eq!(partly.status, PartiallyFilled);
        assert_eq!(partly.dispatch, DispatchState::Broadcasting);
        assert_eq!(partly.trucks_filled, 2);
        let full = after_confirm(DispatchState::Broadcasting, 2, 3, 1);
        assert_eq!(full.status, FullyFilled);
        assert_eq!(full.dispatch, DispatchState::Finished);
    }

    #[test]
    fn a_truck_given_back_in_the_window_searches_again() {
        let back = after_giving_back(FullyFilled, DispatchState::Finished, 2, 2, true, false);
        assert!(back.reopened);
        assert_eq!(back.filling.status, PartiallyFilled);
        assert_eq!(back.filling.dispatch, DispatchState::Broadcasting);
        assert_eq!(
            (back.filling.trucks_filled, back.filling.total_trucks),
            (1, 2)
        );
        let only = after_giving_back(FullyFilled, DispatchState::Finished, 1, 1, true, false);
        assert_eq!(only.filling.status, Active);
        assert!(!only.order_expired);
    }

    #[test]
    fn after_the_window_the_truck_expires_and_a_last_truck_ends_the_order() {
        let some_left = after_giving_back(FullyFilled, DispatchState::Finished, 2, 2, false, false);
        assert!(!some_left.reopened);
        assert_eq!(some_left.filling.status, FullyFilled);
        assert_eq!(some_left.filling.total_trucks, 1);
        let last = after_giving_back(FullyFilled, DispatchState::Finished, 1, 1, false, false);
        assert!(last.order_expired);
        assert_eq!(last.filling.status, Expired);
        assert_eq!(last.filling.total_trucks, 1, "total never drops below one");
    }

    #[test]
    fn a_filled_order_does_not_reopen_while_another_order_of_the_customer_searches() {
        let blocked = after_giving_back(FullyFilled, DispatchState::Finished, 2, 2, true, true);
        assert!(!blocked.reopened);
        // A still-searching order reopens its truck whatever else searches.
        let searching = after_giving_back(
            PartiallyFilled,
            DispatchState::Broadcasting,
            1,
            2,
            true,
            true,
        );
        assert!(searching.reopened);
    }

    #[test]
    fn an_expired_order_says_why_and_the_codes_read_back() {
        assert_eq!(EndReason::of_expiry(1, 3), EndReason::PartialFillTimeout);
        assert_eq!(EndReason::of_expiry(0, 0), EndReason::NoOnlineTransporters);
        assert_eq!(
            EndReason::of_expiry(0, 2),
            EndReason::NoTransporterAcceptance
        );
        for reason in END_REASONS {
            assert_eq!(EndReason::parse(reason.as_str()), Some(reason));
        }
    }
}
