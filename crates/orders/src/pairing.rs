//! Whether a hold may be confirmed ([`check_hold`]) and whether a vehicle
//! and a driver may take a held truck ([`check_pair`]): the checks a
//! confirm makes, as pure functions of what the storage layer read under
//! its locks.

use serde::Serialize;

/// Why a (vehicle, driver) pair cannot take a truck. Its code is what the
/// captain app reads in `failedAssignments[].reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PairProblem {
    /// No such vehicle in the transporter's fleet (or deleted).
    VehicleNotFound,
    /// The vehicle is not of the held type.
    VehicleTypeMismatch,
    /// The vehicle is on another job or out of service.
    VehicleNotAvailable,
    /// No such driver in the transporter's fleet.
    DriverNotFound,
    /// The driver's account is deactivated.
    DriverInactive,
    /// The driver is offline.
    DriverOffline,
    /// The driver is on another live assignment.
    DriverBusy,
}

impl PairProblem {
    /// The code the app reads.
    pub fn code(self) -> &'static str {
        match self {
            Self::VehicleNotFound => "VEHICLE_NOT_FOUND",
            Self::VehicleTypeMismatch => "VEHICLE_TYPE_MISMATCH",
            Self::VehicleNotAvailable => "VEHICLE_NOT_AVAILABLE",
            Self::DriverNotFound => "DRIVER_NOT_FOUND",
            Self::DriverInactive => "DRIVER_INACTIVE",
            Self::DriverOffline => "DRIVER_OFFLINE",
            Self::DriverBusy => "DRIVER_BUSY",
        }
    }

    /// What a person reads.
    pub fn describe(self) -> &'static str {
        match self {
            Self::VehicleNotFound => "a vehicle is not one of yours",
            Self::VehicleTypeMismatch => "a vehicle is not of the held type",
            Self::VehicleNotAvailable => "a vehicle is not available",
            Self::DriverNotFound => "a driver is not one of yours",
            Self::DriverInactive => "a driver's account is inactive",
            Self::DriverOffline => "a driver is offline",
            Self::DriverBusy => "a driver is already on another trip",
        }
    }
}

/// What a confirm read of the vehicle named.
#[derive(Debug, Clone, Copy)]
pub struct VehicleFacts {
    /// It belongs to the confirming transporter and is not deleted.
    pub in_fleet: bool,
    /// It is of the held type.
    pub of_held_type: bool,
    /// It is free (`available`).
    pub free: bool,
}

/// What a confirm read of the driver named.
#[derive(Debug, Clone, Copy)]
pub struct DriverFacts {
    /// The driver belongs to the confirming transporter.
    pub in_fleet: bool,
    /// The account is active.
    pub active: bool,
    /// The driver is online.
    pub online: bool,
    /// The driver has a live assignment already.
    pub busy: bool,
}

/// The first problem of a pair, vehicle first; `None` when it may take
/// the truck. `None` facts mean no such row.
pub fn check_pair(
    vehicle: Option<VehicleFacts>,
    driver: Option<DriverFacts>,
) -> Option<PairProblem> {
    match (vehicle, driver) {
        (None, _) => Some(PairProblem::VehicleNotFound),
        (Some(v), _) if !v.in_fleet => Some(PairProblem::VehicleNotFound),
        (Some(v), _) if !v.of_held_type => Some(PairProblem::VehicleTypeMismatch),
        (Some(v), _) if !v.free => Some(PairProblem::VehicleNotAvailable),
        (_, None) => Some(PairProblem::DriverNotFound),
        (_, Some(d)) if !d.in_fleet => Some(PairProblem::DriverNotFound),
        (_, Some(d)) if !d.active => Some(PairProblem::DriverInactive),
        (_, Some(d)) if !d.online => Some(PairProblem::DriverOffline),
        (_, Some(d)) if d.busy => Some(PairProblem::DriverBusy),
        _ => None,
    }
}

/// Why a hold cannot be confirmed as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldProblem {
    /// The hold was confirmed, released, expired or cancelled already.
    NotActive(crate::HoldStatus),
    /// Its time is up (the sweeper is about to expire it).
    Expired,
    /// The order no longer takes trucks.
    OrderClosed,
    /// The number of pairs is not the number of held trucks.
    CountMismatch {
        /// Trucks held.
        held: i32,
    },
}

/// What a confirm read of the hold and its order.
#[derive(Debug, Clone, Copy)]
pub struct HoldFacts<Instant> {
    /// The hold's status.
    pub status: crate::HoldStatus,
    /// When it ends.
    pub expires_at: Instant,
    /// Trucks it holds.
    pub quantity: i32,
    /// The order's status.
    pub order_status: crate::OrderStatus,
    /// When the order's window ends.
    pub order_expires_at: Instant,
}

/// Whether a hold may be confirmed at `now` with `pairs` pairs: an active,
/// unexpired hold of an order still searching, one pair per held truck.
pub fn check_hold<Instant: PartialOrd>(
    hold: &HoldFacts<Instant>,
    pairs: usize,
    now: &Instant,
) -> Result<(), HoldProblem> {
    if hold.status != crate::HoldStatus::Active {
        return Err(HoldProblem::NotActive(hold.status));
    }
    if hold.expires_at <= *now {
        return Err(HoldProblem::Expired);
    }
    if !hold.order_status.is_searching() || hold.order_expires_at <= *now {
        return Err(HoldProblem::OrderClosed);
    }
    if usize::try_from(hold.quantity).ok() != Some(pairs) {
        return Err(HoldProblem::CountMismatch {
            held: hold.quantity,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_VEHICLE: VehicleFacts = VehicleFacts {
        in_fleet: true,
        of_held_type: true,
        free: true,
    };
    const GOOD_DRIVER: DriverFacts = DriverFacts {
        in_fleet: true,
        active: true,
        online: true,
        busy: false,
    };

    #[test]
    fn a_pair_is_checked_vehicle_first_and_names_its_first_problem() {
        assert_eq!(check_pair(Some(GOOD_VEHICLE), Some(GOOD_DRIVER)), None);
        assert_eq!(check_pair(None, None), Some(PairProblem::VehicleNotFound));
        let taken = VehicleFacts {
            free: false,
            ..GOOD_VEHICLE
        };
        let busy = DriverFacts {
            busy: true,
            ..GOOD_DRIVER
        };
        assert_eq!(
            check_pair(Some(taken), Some(busy)),
            Some(PairProblem::VehicleNotAvailable)
        );
        assert_eq!(
            check_pair(Some(GOOD_VEHICLE), Some(busy)),
            Some(PairProblem::DriverBusy)
        );
        let offline = DriverFacts {
            online: false,
            ..GOOD_DRIVER
        };
        assert_eq!(
            check_pair(Some(GOOD_VEHICLE), Some(offline)),
            Some(PairProblem::DriverOffline)
        );
        assert_eq!(
            check_pair(Some(GOOD_VEHICLE), None),
            Some(PairProblem::DriverNotFound)
        );
    }

    #[test]
    fn each_problem_serialises_as_its_code() {
        for problem in [
            PairProblem::VehicleNotFound,
            PairProblem::VehicleTypeMismatch,
            PairProblem::VehicleNotAvailable,
            PairProblem::DriverNotFound,
            PairProblem::DriverInactive,
            PairProblem::DriverOffline,
            PairProblem::DriverBusy,
        ] {
            let json = serde_json::to_value(problem).unwrap();
            assert_eq!(json, problem.code());
        }
    }

    #[test]
    fn a_hold_confirms_only_while_active_unexpired_searching_and_whole() {
        use crate::{HoldStatus, OrderStatus};
        let ok = HoldFacts {
            status: HoldStatus::Active,
            expires_at: 20,
            quantity: 2,
            order_status: OrderStatus::Active,
            order_expires_at: 60,
        };
        assert_eq!(check_hold(&ok, 2, &10), Ok(()));
        let released = HoldFacts {
            status: HoldStatus::Released,
            ..ok
        };
        assert_eq!(
            check_hold(&released, 2, &10),
            Err(HoldProblem::NotActive(HoldStatus::Released))
        );
        assert_eq!(check_hold(&ok, 2, &20), Err(HoldProblem::Expired));
        let filled = HoldFacts {
            order_status: OrderStatus::FullyFilled,
            ..ok
        };
        assert_eq!(check_hold(&filled, 2, &10), Err(HoldProblem::OrderClosed));
        assert_eq!(
            check_hold(&ok, 1, &10),
            Err(HoldProblem::CountMismatch { held: 2 })
        );
    }
}
