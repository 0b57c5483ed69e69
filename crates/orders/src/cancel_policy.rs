//! What a customer's cancel costs, by how far the trucks have got
//! (docs/order-lifecycle.md, cancel policy): free while searching; ₹50 once a driver is
//! assigned; at the pickup a reason is required and ₹100 or the waiting
//! charges (₹5 a minute after 5 free minutes); once loaded, the most of
//! ₹100, the waiting charges and 30 % of the trucks' fares (the drivers get
//! 15 %); with a truck on the road, no cancel: a dispute only. The amount
//! is the largest of its parts. No money moves here: amounts are recorded.

use crate::AssignmentStatus;

/// How far the order's trucks have got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// No truck assigned.
    Searching,
    /// A driver is assigned or heading to the pickup.
    DriverAssigned,
    /// A truck is at the pickup.
    AtPickup,
    /// A truck is loaded.
    LoadingStarted,
    /// A truck is on the road or unloading.
    InTransit,
}

impl Stage {
    /// The word the apps read (`policyStage`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Searching => "searching",
            Self::DriverAssigned => "driver_assigned",
            Self::AtPickup => "at_pickup",
            Self::LoadingStarted => "loading_started",
            Self::InTransit => "in_transit",
        }
    }

    fn of(status: AssignmentStatus) -> Self {
        use AssignmentStatus::*;
        match status {
            Pending | DriverAccepted | EnRoutePickup => Self::DriverAssigned,
            AtPickup => Self::AtPickup,
            LoadingComplete => Self::LoadingStarted,
            InTransit | ArrivedAtDrop => Self::InTransit,
            Completed | DriverDeclined | TimedOut | Cancelled => Self::Searching,
        }
    }
}

/// The decision the app switches on (`cancelDecision`): it shows its fee
/// dialog for `allowed_with_penalty` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Free.
    Allowed,
    /// Money is due.
    AllowedWithPenalty,
    /// A truck is on the road: a dispute only.
    BlockedDisputeOnly,
}

impl Decision {
    /// Its word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::AllowedWithPenalty => "allowed_with_penalty",
            Self::BlockedDisputeOnly => "blocked_dispute_only",
        }
    }
}

/// A truck of the order still running: its status, its fare and how long
/// it has been in that status.
#[derive(Debug, Clone, Copy)]
pub struct LiveTruck {
    /// Its assignment's status.
    pub status: AssignmentStatus,
    /// Its fare, rupees.
    pub fare: i64,
    /// Seconds since it reached that status.
    pub secs_in_status: i64,
}

/// What cancelling now would mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// How far the trucks have got.
    pub stage: Stage,
    /// Free, with a fee, or blocked.
    pub decision: Decision,
    /// The customer must say why.
    pub reason_required: bool,
    /// What the customer owes, rupees.
    pub penalty: i64,
    /// Its parts: (name, amount); the penalty is the largest.
    pub penalty_parts: Vec<(&'static str, i64)>,
    /// What the drivers are owed in all, rupees.
    pub driver_compensation: i64,
}

/// ₹ a minute of waiting at the pickup, after the free minutes.
pub const WAITING_PER_MINUTE: i64 = 5;
/// Free minutes at the pickup.
pub const FREE_WAITING_MINUTES: i64 = 5;

fn waiting(trucks: &[LiveTruck]) -> i64 {
    trucks
        .iter()
        .filter(|t| matches!(Stage::of(t.status), Stage::AtPickup | Stage::LoadingStarted))
        .map(|t| (t.secs_in_status / 60 - FREE_WAITING_MINUTES).max(0) * WAITING_PER_MINUTE)
        .sum()
}

/// Evaluates a cancel now of an order whose running trucks are `trucks`.
pub fn evaluate(trucks: &[LiveTruck]) -> Evaluation {
    let stage = trucks
        .iter()
        .map(|t| Stage::of(t.status))
        .max()
        .unwrap_or(Stage::Searching);
    let fares: i64 = trucks.iter().map(|t| t.fare.max(0)).sum();
    let wait = waiting(trucks);
    let (parts, compensation): (Vec<(&'static str, i64)>, i64) = match stage {
        Stage::Searching | Stage::InTransit => (Vec::new(), 0),
        Stage::DriverAssigned => (vec![("driver_assigned_fee", 50)], 50),
        Stage::AtPickup => (
            vec![("at_pickup_fee", 100), ("waiting_charges", wait)],
            100.max(wait),
        ),
        Stage::LoadingStarted => (
            vec![
                ("loading_fee", 100),
                ("waiting_charges", wait),
                ("fare_share", fares * 30 / 100),
            ],
            100.max(wait).max(fares * 15 / 100),
        ),
    };
    let penalty = parts.iter().map(|(_, amount)| *amount).max().unwrap_or(0);
    let decision = match (stage, penalty) {
        (Stage::InTransit, _) => Decision::BlockedDisputeOnly,
        (_, 0) => Decision::Allowed,
        _ => Decision::AllowedWithPenalty,
    };
    Evaluation {
        stage,
        decision,
        reason_required: matches!(stage, Stage::AtPickup | Stage::LoadingStarted),
        penalty,
        penalty_parts: parts,
        driver_compensation: compensation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssignmentStatus::*;

    fn truck(status: AssignmentStatus, fare: i64, minutes: i64) -> LiveTruck {
        LiveTruck {
            status,
            fare,
            secs_in_status: minutes * 60,
        }
    }

    #[test]
    fn each_stage_costs_what_the_table_says() {
        let free = evaluate(&[]);
        assert_eq!(
            (free.stage, free.decision, free.penalty),
            (Stage::Searching, Decision::Allowed, 0)
        );
        let assigned = evaluate(&[truck(Pending, 9000, 0)]);
        assert_eq!(
            (assigned.decision, assigned.penalty),
            (Decision::AllowedWithPenalty, 50)
        );
        assert!(!assigned.reason_required);
        let pickup = evaluate(&[truck(AtPickup, 9000, 3)]);
        assert_eq!((pickup.stage, pickup.penalty), (Stage::AtPickup, 100));
        assert!(pickup.reason_required);
        let waited = evaluate(&[truck(AtPickup, 9000, 45)]);
        assert_eq!(waited.penalty, 200, "40 paid minutes at ₹5");
        let loaded = evaluate(&[truck(LoadingComplete, 9000, 0), truck(Pending, 9000, 0)]);
        assert_eq!(
            (loaded.stage, loaded.penalty),
            (Stage::LoadingStarted, 5400),
            "30 % of ₹18 000"
        );
        assert_eq!(loaded.driver_compensation, 2700);
        let rolling = evaluate(&[truck(InTransit, 9000, 0), truck(AtPickup, 9000, 0)]);
        assert_eq!(
            (rolling.decision, rolling.penalty),
            (Decision::BlockedDisputeOnly, 0)
        );
    }

    #[test]
    fn the_penalty_never_falls_as_the_trucks_get_further() {
        let order = [
            Pending,
            DriverAccepted,
            EnRoutePickup,
            AtPickup,
            LoadingComplete,
        ];
        let mut last = 0;
        for status in order {
            for minutes in [0, 5, 20, 90] {
                let now = evaluate(&[truck(status, 7000, minutes)]).penalty;
                assert!(now >= last || minutes == 0, "{status:?} {minutes}");
            }
            let now = evaluate(&[truck(status, 7000, 0)]).penalty;
            assert!(now >= last, "{status:?}");
            last = now;
        }
    }
}
