//! Where a fleet vehicle is ([`VehicleStatus`]): free to offer, held,
//! on a trip, or out of service, with its transition table.

use serde::{Deserialize, Serialize};

/// Where a vehicle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VehicleStatus {
    /// Free: counted for broadcasts and holds.
    Available,
    /// Named on an assignment its driver has not finished.
    OnHold,
    /// On a trip.
    InTransit,
    /// In the workshop.
    Maintenance,
    /// Taken out of the fleet.
    Inactive,
}

/// Every vehicle status.
pub const VEHICLE_STATUSES: [VehicleStatus; 5] = [
    VehicleStatus::Available,
    VehicleStatus::OnHold,
    VehicleStatus::InTransit,
    VehicleStatus::Maintenance,
    VehicleStatus::Inactive,
];

/// On no job: a vehicle in one of these may leave the fleet.
pub const OFF_THE_JOB: [VehicleStatus; 3] = [
    VehicleStatus::Available,
    VehicleStatus::Maintenance,
    VehicleStatus::Inactive,
];

impl VehicleStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::OnHold => "on_hold",
            Self::InTransit => "in_transit",
            Self::Maintenance => "maintenance",
            Self::Inactive => "inactive",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        VEHICLE_STATUSES.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether `self → to` is allowed. A vehicle on a job goes back to
    /// available when the job ends; the owner moves a free one in and out
    /// of service.
    pub fn can_become(self, to: Self) -> bool {
        use VehicleStatus::*;
        match self {
            Available => matches!(to, OnHold | InTransit | Maintenance | Inactive),
            OnHold => matches!(to, Available | InTransit | Inactive),
            InTransit => matches!(to, Available),
            Maintenance => matches!(to, Available | Inactive),
            Inactive => matches!(to, Available),
        }
    }

    /// The statuses from which `to` may be reached: the SQL guard.
    pub fn sources_of(to: Self) -> Vec<Self> {
        VEHICLE_STATUSES
            .into_iter()
            .filter(|from| from.can_become(to))
            .collect()
    }
}

impl std::fmt::Display for VehicleStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::VehicleStatus::*;
    use super::*;

    #[test]
    fn a_vehicle_on_a_trip_only_comes_back_free() {
        assert_eq!(VehicleStatus::sources_of(InTransit), [Available, OnHold]);
        assert_eq!(
            VehicleStatus::sources_of(Available),
            [OnHold, InTransit, Maintenance, Inactive]
        );
        assert!(!InTransit.can_become(Inactive));
        for status in VEHICLE_STATUSES {
            assert_eq!(VehicleStatus::parse(status.as_str()), Some(status));
            assert!(!status.can_become(status), "{status:?}");
        }
    }
}
