//! The statuses of orders and truck requests and the transitions between
//! them, as tables. SQL guards (`WHERE status = ANY(..)`) use the same lists
//! through [`OrderStatus::sources_of`] and [`TruckStatus::sources_of`].

use serde::{Deserialize, Serialize};

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum OrderStatus {
    /// Written, not yet dispatched.
    Created,
    /// The first dispatch step is running.
    Broadcasting,
    /// Searching; nobody has a truck yet.
    Active,
    /// Searching; some trucks are assigned.
    PartiallyFilled,
    /// Every truck is assigned.
    FullyFilled,
    /// A truck is in transit.
    InProgress,
    /// Every trip ended.
    Completed,
    /// The customer cancelled.
    Cancelled,
    /// The search window ended with no truck assigned.
    Expired,
}

/// Every order status, for exhaustive tests.
pub const ORDER_STATUSES: [OrderStatus; 9] = [
    OrderStatus::Created,
    OrderStatus::Broadcasting,
    OrderStatus::Active,
    OrderStatus::PartiallyFilled,
    OrderStatus::FullyFilled,
    OrderStatus::InProgress,
    OrderStatus::Completed,
    OrderStatus::Cancelled,
    OrderStatus::Expired,
];

/// The searching statuses: at most one such order per customer.
pub const SEARCHING: [OrderStatus; 4] = [
    OrderStatus::Created,
    OrderStatus::Broadcasting,
    OrderStatus::Active,
    OrderStatus::PartiallyFilled,
];

impl OrderStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Broadcasting => "broadcasting",
            Self::Active => "active",
            Self::PartiallyFilled => "partially_filled",
            Self::FullyFilled => "fully_filled",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        ORDER_STATUSES.into_iter().find(|s| s.as_str() == name)
    }

    /// Still looking for trucks (blocks another order of the customer).
    pub fn is_searching(self) -> bool {
        SEARCHING.contains(&self)
    }

    /// Nothing more can happen to it.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::Expired)
    }

    /// Whether the customer may still cancel (until a truck is in transit).
    pub fn is_cancellable(self) -> bool {
        !self.is_terminal() && self != Self::InProgress
    }

    /// Whether `self → to` is allowed.
    pub fn can_become(self, to: Self) -> bool {
        use OrderStatus::*;
        match self {
            Created => matches!(to, Broadcasting | Active | Cancelled | Expired),
            Broadcasting => matches!(
                to,
                Active | PartiallyFilled | FullyFilled | Cancelled | Expired
            ),
            Active => matches!(to, PartiallyFilled | FullyFilled | Cancelled | Expired),
            // A partly filled order that expires continues with what it has.
            PartiallyFilled => matches!(to, Active | FullyFilled | Cancelled | Expired),
            // A driver decline reopens a truck (all of them when it was the
            // only one filled) or, after the window, ends the order when it
            // was its last; the first truck in transit starts the order.
            FullyFilled => matches!(
                to,
                Active | PartiallyFilled | InProgress | Cancelled | Completed | Expired
            ),
            InProgress => matches!(to, Completed),
            Completed | Cancelled | Expired => false,
        }
    }

    /// The statuses from which `to` may be reached: the SQL guard.
    pub fn sources_of(to: Self) -> Vec<Self> {
        ORDER_STATUSES
            .into_iter()
            .filter(|from| from.can_become(to))
            .collect()
    }
}

/// Where one truck of an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruckStatus {
    /// Open for transporters.
    Searching,
    /// Held by a transporter who is picking a vehicle and driver.
    Held,
    /// A vehicle and driver are named; the driver has not finished.
    Assigned,
    /// On its trip.
    InProgress,
    /// Trip done.
    Completed,
    /// The order was cancelled.
    Cancelled,
    /// The search window ended before it was assigned.
    Expired,
}

/// The trucks a search-window end expires: those nobody has a driver for.
pub const OPEN_TRUCKS: [TruckStatus; 2] = [TruckStatus::Searching, TruckStatus::Held];

/// Every truck status, for exhaustive tests.
pub const TRUCK_STATUSES: [TruckStatus; 7] = [
    TruckStatus::Searching,
    TruckStatus::Held,
    TruckStatus::Assigned,
    TruckStatus::InProgress,
    TruckStatus::Completed,
    TruckStatus::Cancelled,
    TruckStatus::Expired,
];

impl TruckStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Searching => "searching",
            Self::Held => "held",
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        TRUCK_STATUSES.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether `self → to` is allowed.
    pub fn can_become(self, to: Self) -> bool {
        use TruckStatus::*;
        match self {
            Searching => matches!(to, Held | Assigned | Cancelled | Expired),
            // Released or expired holds reopen the truck.
            Held => matches!(to, Searching | Assigned | Cancelled | Expired),
            // Decline or timeout reopens it, or expires it once the window is
            // over; assigned trucks outlive the search window.
            Assigned => matches!(to, Searching | InProgress | Cancelled | Expired),
            InProgress => matches!(to, Completed),
            Completed | Cancelled | Expired => false,
        }
    }

    /// The statuses from which `to` may be reached: the SQL guard.
    pub fn sources_of(to: Self) -> Vec<Self> {
        TRUCK_STATUSES
            .into_iter()
            .filter(|from| from.can_become(to))
            .collect()
    }
}

/// The stored name, for logs and messages.
macro_rules! display_as_stored {
    ($($status:ty),*) => {$(
        impl std::fmt::Display for $status {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_stored!(
    OrderStatus,
    TruckStatus,
    crate::AssignmentStatus,
    crate::HoldStatus,
    crate::DispatchState
);

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::TruckStatus as T;
    use super::*;

    /// Every allowed order transition; every pair not listed must be refused.
    const ORDER_ALLOWED: &[(OrderStatus, OrderStatus)] = &[
        (Created, Broadcasting),
        (Created, Active),
        (Created, Cancelled),
        (Created, Expired),
        (Broadcasting, Active),
        (Broadcasting, PartiallyFilled),
        (Broadcasting, FullyFilled),
        (Broadcasting, Cancelled),
        (Broadcasting, Expired),
        (Active, PartiallyFilled),
        (Active, FullyFilled),
        (Active, Cancelled),
        (Active, Expired),
        (PartiallyFilled, Active),
        (PartiallyFilled, FullyFilled),
        (PartiallyFilled, Cancelled),
        (PartiallyFilled, Expired),
        (FullyFilled, Active),
        (FullyFilled, PartiallyFilled),
        (FullyFilled, InProgress),
        (FullyFilled, Cancelled),
        (FullyFilled, Completed),
        (FullyFilled, Expired),
        (InProgress, Completed),
    ];

    const TRUCK_ALLOWED: &[(TruckStatus, TruckStatus)] = &[
        (T::Searching, T::Held),
        (T::Searching, T::Assigned),
        (T::Searching, T::Cancelled),
        (T::Searching, T::Expired),
        (T::Held, T::Searching),
        (T::Held, T::Assigned),
        (T::Held, T::Cancelled),
        (T::Held, T::Expired),
        (T::Assigned, T::Searching),
        (T::Assigned, T::InProgress),
        (T::Assigned, T::Cancelled),
        (T::Assigned, T::Expired),
        (T::InProgress, T::Completed),
    ];

    #[test]
    fn every_order_transition_is_allowed_or_refused_as_the_table_says() {
        for from in ORDER_STATUSES {
            for to in ORDER_STATUSES {
                let expected = ORDER_ALLOWED.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn every_truck_transition_is_allowed_or_refused_as_the_table_says() {
        for from in TRUCK_STATUSES {
            for to in TRUCK_STATUSES {
                let expected = TRUCK_ALLOWED.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn names_round_trip_and_sql_guards_follow_the_tables() {
        for status in ORDER_STATUSES {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        for status in TRUCK_STATUSES {
            assert_eq!(TruckStatus::parse(status.as_str()), Some(status));
        }
        // The search window ends searching orders; a filled order whose last
        // driver declines after it ends expires too.
        assert_eq!(
            OrderStatus::sources_of(Expired),
            vec![Created, Broadcasting, Active, PartiallyFilled, FullyFilled]
        );
        assert_eq!(OPEN_TRUCKS.to_vec(), vec![T::Searching, T::Held]);
        assert!(!InProgress.is_cancellable() && FullyFilled.is_cancellable());
        assert!(Completed.is_terminal() && !FullyFilled.is_terminal());
    }
}
