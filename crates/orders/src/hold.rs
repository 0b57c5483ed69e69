//! A transporter's hold on searching trucks, and where an order's search
//! stands ([`DispatchState`]), with their transition tables.

use serde::{Deserialize, Serialize};

/// Where a hold is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum HoldStatus {
    /// The trucks are the transporter's until it confirms or the hold ends.
    Active,
    /// Confirmed with vehicles and drivers: assignments now.
    Confirmed,
    /// Given back by the transporter.
    Released,
    /// Its time ran out.
    Expired,
    /// The order ended (cancelled or expired) under it.
    Cancelled,
}

/// Every hold status, for exhaustive tests.
pub const HOLD_STATUSES: [HoldStatus; 5] = [
    HoldStatus::Active,
    HoldStatus::Confirmed,
    HoldStatus::Released,
    HoldStatus::Expired,
    HoldStatus::Cancelled,
];

impl HoldStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Confirmed => "confirmed",
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        HOLD_STATUSES.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether `self → to` is allowed: only an active hold ends, once.
    pub fn can_become(self, to: Self) -> bool {
        self == Self::Active && to != Self::Active
    }

    /// The statuses from which `to` may be reached: the SQL guard.
    pub fn sources_of(to: Self) -> Vec<Self> {
        HOLD_STATUSES
            .into_iter()
            .filter(|from| from.can_become(to))
            .collect()
    }
}

/// Where an order's search stands (the radius steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum DispatchState {
    /// Written; its first step is not taken yet.
    Queued,
    /// Offered to transporters, radius step by step.
    Broadcasting,
    /// The search is over (filled, expired or cancelled).
    Finished,
}

/// Every dispatch state.
pub const DISPATCH_STATES: [DispatchState; 3] = [
    DispatchState::Queued,
    DispatchState::Broadcasting,
    DispatchState::Finished,
];

impl DispatchState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Broadcasting => "broadcasting",
            Self::Finished => "finished",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        DISPATCH_STATES.into_iter().find(|s| s.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_hold_ends_and_it_ends_once() {
        for from in HOLD_STATUSES {
            for to in HOLD_STATUSES {
                let allowed = from == HoldStatus::Active && to != HoldStatus::Active;
                assert_eq!(from.can_become(to), allowed, "{from:?} -> {to:?}");
            }
        }
        assert_eq!(
            HoldStatus::sources_of(HoldStatus::Expired),
            [HoldStatus::Active]
        );
    }

    #[test]
    fn stored_names_read_back() {
        for status in HOLD_STATUSES {
            assert_eq!(HoldStatus::parse(status.as_str()), Some(status));
        }
        for state in DISPATCH_STATES {
            assert_eq!(DispatchState::parse(state.as_str()), Some(state));
        }
        assert_eq!(HoldStatus::parse("held"), None);
    }
}
