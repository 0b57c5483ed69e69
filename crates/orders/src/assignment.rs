//! Assignments: a vehicle and a driver named for one truck of an order, and
//! the driver's answer and trip. Statuses and their transition table; the
//! SQL guards use [`AssignmentStatus::sources_of`] and [`LIVE_ASSIGNMENT`].

use serde::{Deserialize, Serialize};

/// Where an assignment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Waiting for the driver's answer (45 s by default).
    Pending,
    /// The driver accepted.
    DriverAccepted,
    /// Heading to the pickup.
    EnRoutePickup,
    /// At the pickup.
    AtPickup,
    /// Loaded.
    LoadingComplete,
    /// On the road to the drop.
    InTransit,
    /// At the drop.
    ArrivedAtDrop,
    /// Delivered.
    Completed,
    /// The driver said no.
    DriverDeclined,
    /// The driver did not answer in time.
    TimedOut,
    /// The order was cancelled.
    Cancelled,
}

/// A truck past loading: on the road to the drop, at it, or delivered. An
/// order with one of these can no longer be cancelled (docs/order-lifecycle.md: cancel is
/// allowed until the first truck is in transit), however many of its
/// trucks are still searching.
pub const ON_THE_ROAD: [AssignmentStatus; 3] = [
    AssignmentStatus::InTransit,
    AssignmentStatus::ArrivedAtDrop,
    AssignmentStatus::Completed,
];

/// Loaded and between pickup and drop: it starts its order, and the
/// silence watchdog watches it.
pub const MOVING: [AssignmentStatus; 2] =
    [AssignmentStatus::InTransit, AssignmentStatus::ArrivedAtDrop];

/// Ended without the driver taking it: the truck was given back.
pub const UNANSWERED: [AssignmentStatus; 2] =
    [AssignmentStatus::DriverDeclined, AssignmentStatus::TimedOut];

/// Every assignment status, for exhaustive tests.
pub const ASSIGNMENT_STATUSES: [AssignmentStatus; 11] = [
    AssignmentStatus::Pending,
    AssignmentStatus::DriverAccepted,
    AssignmentStatus::EnRoutePickup,
    AssignmentStatus::AtPickup,
    AssignmentStatus::LoadingComplete,
    AssignmentStatus::InTransit,
    AssignmentStatus::ArrivedAtDrop,
    AssignmentStatus::Completed,
    AssignmentStatus::DriverDeclined,
    AssignmentStatus::TimedOut,
    AssignmentStatus::Cancelled,
];

/// The live statuses: a driver and a vehicle have at most one live
/// assignment each (partial unique indexes over the same list).
pub const LIVE_ASSIGNMENT: [AssignmentStatus; 7] = [
    AssignmentStatus::Pending,
    AssignmentStatus::DriverAccepted,
    AssignmentStatus::EnRoutePickup,
    AssignmentStatus::AtPickup,
    AssignmentStatus::LoadingComplete,
    AssignmentStatus::InTransit,
    AssignmentStatus::ArrivedAtDrop,
];

/// A trip accepted and not ended: the live statuses after `pending`.
pub const ON_TRIP: [AssignmentStatus; 6] = [
    AssignmentStatus::DriverAccepted,
    AssignmentStatus::EnRoutePickup,
    AssignmentStatus::AtPickup,
    AssignmentStatus::LoadingComplete,
    AssignmentStatus::InTransit,
    AssignmentStatus::ArrivedAtDrop,
];

impl AssignmentStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::DriverAccepted => "driver_accepted",
            Self::EnRoutePickup => "en_route_pickup",
            Self::AtPickup => "at_pickup",
            Self::LoadingComplete => "loading_complete",
            Self::InTransit => "in_transit",
            Self::ArrivedAtDrop => "arrived_at_drop",
            Self::Completed => "completed",
            Self::DriverDeclined => "driver_declined",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        ASSIGNMENT_STATUSES.into_iter().find(|s| s.as_str() == name)
    }

    /// Holds its driver and vehicle.
    pub fn is_live(self) -> bool {
        LIVE_ASSIGNMENT.contains(&self)
    }

    /// Whether `self → to` is allowed.
    pub fn can_become(self, to: Self) -> bool {
        use AssignmentStatus::*;
        match self {
            Pending => matches!(to, DriverAccepted | DriverDeclined | TimedOut | Cancelled),
            DriverAccepted => matches!(to, EnRoutePickup | AtPickup | Cancelled),
            EnRoutePickup => matches!(to, AtPickup | Cancelled),
            AtPickup => matches!(to, LoadingComplete | Cancelled),
            LoadingComplete => matches!(to, InTransit | Cancelled),
            InTransit => matches!(to, ArrivedAtDrop | Completed),
            ArrivedAtDrop => matches!(to, Completed),
            Completed | DriverDeclined | TimedOut | Cancelled => false,
        }
    }

    /// The statuses from which `to` may be reached: the SQL guard.
    pub fn sources_of(to: Self) -> Vec<Self> {
        ASSIGNMENT_STATUSES
            .into_iter()
            .filter(|from| from.can_become(to))
            .collect()
    }
}

/// The drivers' trip words of `PUT tracking/trip/{id}/status`, in order.
pub const TRIP_WORDS: [(&str, AssignmentStatus); 6] = [
    ("heading_to_pickup", AssignmentStatus::EnRoutePickup),
    ("at_pickup", AssignmentStatus::AtPickup),
    ("loading_complete", AssignmentStatus::LoadingComplete),
    ("in_transit", AssignmentStatus::InTransit),
    ("arrived_at_drop", AssignmentStatus::ArrivedAtDrop),
    ("completed", AssignmentStatus::Completed),
];

/// What a driver's trip status update does from the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TripStep {
    /// Already there: an idempotent repeat.
    Same,
    /// A move forward along the table.
    Forward,
    /// Backward, skipped or not a trip yet: refused.
    Refused,
}

impl AssignmentStatus {
    /// Parses a trip word of the driver app.
    pub fn from_trip_word(word: &str) -> Option<Self> {
        TRIP_WORDS
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, status)| *status)
    }

    /// The apps' word for this status: `heading_to_pickup` for a driver on
    /// the way (the server moves an accepted trip there itself), the stored
    /// name otherwise.
    pub fn trip_word(self) -> &'static str {
        match self {
            Self::DriverAccepted | Self::EnRoutePickup => "heading_to_pickup",
            other => other.as_str(),
        }
    }

    /// What moving a trip from `self` to `to` is. An accepted trip already
    /// counts as heading to the pickup.
    pub fn trip_step(self, to: Self) -> TripStep {
        let same = self == to || (self == Self::DriverAccepted && to == Self::EnRoutePickup);
        if same {
            TripStep::Same
        } else if self.can_become(to) && to != Self::Cancelled {
            TripStep::Forward
        } else {
            TripStep::Refused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AssignmentStatus::*;
    use super::*;

    const ALLOWED: &[(AssignmentStatus, AssignmentStatus)] = &[
        (Pending, DriverAccepted),
        (Pending, DriverDeclined),
        (Pending, TimedOut),
        (Pending, Cancelled),
        (DriverAccepted, EnRoutePickup),
        (DriverAccepted, AtPickup),
        (DriverAccepted, Cancelled),
        (EnRoutePickup, AtPickup),
        (EnRoutePickup, Cancelled),
        (AtPickup, LoadingComplete),
        (AtPickup, Cancelled),
        (LoadingComplete, InTransit),
        (LoadingComplete, Cancelled),
        (InTransit, ArrivedAtDrop),
        (InTransit, Completed),
        (ArrivedAtDrop, Completed),
    ];

    #[test]
    fn every_assignment_transition_is_allowed_or_refused_as_the_table_says() {
        for from in ASSIGNMENT_STATUSES {
            for to in ASSIGNMENT_STATUSES {
                let expected = ALLOWED.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn trip_words_move_only_forward_one_step_at_a_time() {
        use super::TripStep::*;
        let word = |w: &str| AssignmentStatus::from_trip_word(w).unwrap_or(Pending);
        assert_eq!(DriverAccepted.trip_step(word("heading_to_pickup")), Same);
        assert_eq!(DriverAccepted.trip_step(word("at_pickup")), Forward);
        assert_eq!(AtPickup.trip_step(word("loading_complete")), Forward);
        assert_eq!(AtPickup.trip_step(word("in_transit")), Refused, "skipped");
        assert_eq!(InTransit.trip_step(word("at_pickup")), Refused, "backward");
        assert_eq!(InTransit.trip_step(word("completed")), Forward);
        assert_eq!(Completed.trip_step(word("completed")), Same);
        assert_eq!(
            Pending.trip_step(word("at_pickup")),
            Refused,
            "not accepted"
        );
        assert_eq!(AssignmentStatus::from_trip_word("teleported"), None);
        for (name, status) in TRIP_WORDS {
            assert_eq!(AssignmentStatus::from_trip_word(name), Some(status));
            assert_eq!(status.trip_word(), name);
        }
        assert_eq!(DriverAccepted.trip_word(), "heading_to_pickup");
    }

    #[test]
    fn live_statuses_are_exactly_those_that_can_still_move() {
        for status in ASSIGNMENT_STATUSES {
            assert_eq!(AssignmentStatus::parse(status.as_str()), Some(status));
            let can_move = ASSIGNMENT_STATUSES.iter().any(|to| status.can_become(*to));
            assert_eq!(status.is_live(), can_move, "{status:?}");
        }
        assert_eq!(ON_TRIP.to_vec(), LIVE_ASSIGNMENT[1..].to_vec());
        assert_eq!(
            AssignmentStatus::sources_of(Cancelled),
            vec![
                Pending,
                DriverAccepted,
                EnRoutePickup,
                AtPickup,
                LoadingComplete
            ]
        );
    }

    #[test]
    fn the_trucks_on_the_road_are_everything_after_loading_but_a_cancel() {
        // Everything reachable from `loading_complete` other than a cancel.
        let mut reached = vec![LoadingComplete];
        let mut next = 0;
        while next < reached.len() {
            let from = reached[next];
            for to in ASSIGNMENT_STATUSES {
                if from.can_become(to) && to != Cancelled && !reached.contains(&to) {
                    reached.push(to);
                }
            }
            next += 1;
        }
        reached.remove(0);
        assert_eq!(reached, ON_THE_ROAD.to_vec());
        assert!(ON_THE_ROAD.iter().all(|s| !s.can_become(Cancelled)));
    }
}
