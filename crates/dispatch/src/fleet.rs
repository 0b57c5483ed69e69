//! Fleet rules: the vehicle registration number, what fleet calls can fail
//! with, and onboarding a driver. Each change to a fleet tells its owner's
//! apps in the same transaction (`vehicle_*`, `fleet_updated`,
//! `driver_added`), with the counters as they now stand.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;
use weelo_persistence::users::{self, NewDriver, User};
use weelo_persistence::vehicles::{self, Delete, Upsert, Vehicle, VehicleInput};
use weelo_persistence::{availability, fleet_stats};

use crate::events::{
    self, DriverAdded, DriverBrief, Event, Outgoing, Room, VehicleBrief, VehicleChange,
    VehicleRegistered,
};
use crate::{Dispatch, DispatchError, ErrorCode};

/// What happened to a vehicle, for its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VehicleAction {
    /// It joined the fleet.
    Registered,
    /// Its details changed.
    Updated,
    /// It left the fleet.
    Deleted,
    /// It went on or came off a job.
    StatusChanged,
}

/// The events of a change to vehicle `id` of `transporter` (`vehicle` as it
/// now stands, when it still does): the change itself and `fleet_updated`,
/// each with the fleet's counters read in the caller's transaction.
pub async fn vehicle_events(
    conn: &mut AsyncPgConnection,
    transporter: Uuid,
    id: Uuid,
    vehicle: Option<&Vehicle>,
    action: VehicleAction,
) -> diesel::QueryResult<Vec<Outgoing>> {
    let fleet_stats = fleet_stats::fleet(conn, transporter).await?;
    let brief = vehicle.map(VehicleBrief::of);
    let change = |action: &'static str| VehicleChange {
        action,
        vehicle_id: id,
        vehicle: brief.clone(),
        fleet_stats,
    };
    let first = match action {
        VehicleAction::Registered => Event::VehicleRegistered(VehicleRegistered {
            vehicle: brief.clone().unwrap_or(VehicleBrief {
                id,
                vehicle_number: String::new(),
                vehicle_type: String::new(),
                vehicle_subtype: String::new(),
                status: String::new(),
            }),
            message: "Vehicle added to your fleet",
            fleet_stats,
        }),
        VehicleAction::Updated => Event::VehicleUpdated(change("updated")),
        VehicleAction::Deleted => Event::VehicleDeleted(change("deleted")),
        VehicleAction::StatusChanged => Event::VehicleStatusChanged(change("status_changed")),
    };
    let action_word = match action {
        VehicleAction::Registered => "registered",
        VehicleAction::Updated => "updated",
        VehicleAction::Deleted => "deleted",
        VehicleAction::StatusChanged => "status_changed",
    };
    let room = [Room::Transporter(transporter)];
    Ok(vec![
        first.to_fleet(room),
        Event::FleetUpdated(change(action_word)).to_fleet(room),
    ])
}

/// What vehicle and driver management can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    /// Another transporter has a live vehicle with this number.
    #[error("this vehicle number is already registered by another transporter")]
    VehicleExists,
    /// No such vehicle in the caller's fleet.
    #[error("vehicle not found")]
    VehicleNotFound,
    /// The vehicle is on hold or on a trip.
    #[error("the vehicle is on a trip or held for an order; try again when it is free")]
    VehicleInUse,
    /// A driver account with this phone exists.
    #[error("a driver with this phone number is already registered")]
    DriverExists,
    /// No pending onboarding of this phone by the caller.
    #[error("no driver onboarding is pending for this phone; start it again")]
    OnboardingNotFound,
    /// The caller's own account is gone.
    #[error("user not found")]
    UserNotFound,
}

impl From<FleetError> for DispatchError {
    fn from(error: FleetError) -> Self {
        let code = match error {
            FleetError::VehicleExists => ErrorCode::VehicleExists,
            FleetError::VehicleInUse => ErrorCode::VehicleInUse,
            FleetError::DriverExists => ErrorCode::DriverExists,
            FleetError::VehicleNotFound => ErrorCode::VehicleNotFound,
            FleetError::OnboardingNotFound => ErrorCode::OnboardingNotFound,
            FleetError::UserNotFound => ErrorCode::UserNotFound,
        };
        Self::refused(code, error.to_string())
    }
}

/// `vehicle_status_changed` for each `(transporter, vehicle)` that went on
/// or came off a job, and one `fleet_updated` per fleet, with its counters
/// read in the caller's transaction.
pub async fn vehicles_moved(
    conn: &mut AsyncPgConnection,
    moved: &[(Uuid, Uuid)],
) -> diesel::QueryResult<Vec<Outgoing>> {
    let mut fleets: Vec<Uuid> = moved.iter().map(|(transporter, _)| *transporter).collect();
    fleets.sort_unstable();
    fleets.dedup();
    let mut told = Vec::with_capacity(moved.len() + fleets.len());
    for transporter in fleets {
        let fleet_stats = fleet_stats::fleet(conn, transporter).await?;
        let room = [Room::Transporter(transporter)];
        let change = |vehicle_id| VehicleChange {
            action: "status_changed",
            vehicle_id,
            vehicle: None,
            fleet_stats,
        };
        let mut last = None;
        for (_, vehicle) in moved.iter().filter(|(owner, _)| *owner == transporter) {
            told.push(Event::VehicleStatusChanged(change(*vehicle)).to_fleet(room));
            last = Some(*vehicle);
        }
        if let Some(vehicle) = last {
            told.push(Event::FleetUpdated(change(vehicle)).to_fleet(room));
        }
    }
    Ok(told)
}

/// Creates the driver account of a finished onboarding; a phone that is a
/// driver already is `DRIVER_EXISTS` (the unique index decides, so two
/// transporters finishing at once cannot both create it).
pub async fn create_driver(
    dispatch: &Dispatch,
    driver: &NewDriver<'_>,
) -> Result<User, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let created = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let created = users::create_driver(conn, driver).await?;
            let driver_stats = fleet_stats::drivers(conn, driver.transporter_id).await?;
            let added = Event::DriverAdded(DriverAdded {
                driver: DriverBrief::of(&created),
                message: "Driver added to your fleet",
                driver_stats,
            });
            events::append(
                conn,
                &[added.to_fleet([Room::Transporter(driver.transporter_id)])],
                now,
            )
            .await?;
            Ok(created)
        })
        .await;
    match created {
        Ok(driver) => {
            dispatch.wake_relay();
            Ok(driver)
        }
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(FleetError::DriverExists.into()),
        Err(error) => Err(error.into()),
    }
}

/// The transporter's vehicles.
pub async fn vehicles_of(
    dispatch: &Dispatch,
    transporter: Uuid,
) -> Result<Vec<Vehicle>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(vehicles::list(&mut conn, transporter).await?)
}

/// One vehicle of the transporter's.
pub async fn vehicle(
    dispatch: &Dispatch,
    transporter: Uuid,
    id: Uuid,
) -> Result<Vehicle, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(vehicles::find(&mut conn, transporter, id)
        .await?
        .ok_or(FleetError::VehicleNotFound)?)
}

/// Adds or updates a vehicle (by its number) and refreshes what the
/// proximity index knows of the transporter; `true` when it is new.
pub async fn save_vehicle(
    dispatch: &Dispatch,
    transporter: Uuid,
    input: &VehicleInput<'_>,
) -> Result<(Box<Vehicle>, bool), DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let saved = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let saved = vehicles::upsert(conn, transporter, input, now).await?;
            if let Upsert::Saved(vehicle, is_new) = &saved {
                let action = if *is_new {
                    VehicleAction::Registered
                } else {
                    VehicleAction::Updated
                };
                let told =
                    vehicle_events(conn, transporter, vehicle.id, Some(vehicle), action).await?;
                events::append(conn, &told, now).await?;
            }
            Ok(saved)
        })
        .await?;
    match saved {
        Upsert::Saved(vehicle, is_new) => {
            drop(conn);
            dispatch.wake_relay();
            dispatch.presence.refresh_keys(transporter).await?;
            tracing::info!(vehicle.id = %vehicle.id, transporter.id = %transporter, vehicle.is_new = is_new, "vehicle saved");
            Ok((vehicle, is_new))
        }
        Upsert::NumberTaken => Err(FleetError::VehicleExists.into()),
    }
}

/// Removes a free vehicle of the transporter's.
pub async fn delete_vehicle(
    dispatch: &Dispatch,
    transporter: Uuid,
    id: Uuid,
) -> Result<(), DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let outcome = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let outcome = vehicles::delete(conn, transporter, id, now).await?;
            if outcome == Delete::Deleted {
                let told =
                    vehicle_events(conn, transporter, id, None, VehicleAction::Deleted).await?;
                events::append(conn, &told, now).await?;
            }
            Ok(outcome)
        })
        .await?;
    match outcome {
        Delete::Deleted => {
            dispatch.wake_relay();
            Ok(())
        }
        Delete::NotFound => Err(FleetError::VehicleNotFound.into()),
        Delete::InUse => Err(FleetError::VehicleInUse.into()),
    }
}

/// Whether `id` is available, and when that last changed.
pub async fn availability(
    dispatch: &Dispatch,
    id: Uuid,
) -> Result<(bool, Option<DateTime<Utc>>), DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(availability::get(&mut conn, id)
        .await?
        .ok_or(FleetError::UserNotFound)?)
}

/// The vehicle keys of the transporter's free vehicles.
pub async fn free_vehicle_keys(
    dispatch: &Dispatch,
    transporter: Uuid,
) -> Result<Vec<String>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(availability::free_vehicle_keys(&mut conn, transporter).await?)
}

/// Normalises a registration number: upper case, spaces and dashes removed,
/// then checked against the Indian pattern `AA00A0000` (state, district,
/// series of 1–3 letters, number of 1–4 digits) or the BH series
/// `00BH0000AA`.
pub fn normalise_vehicle_number(raw: &str) -> Option<String> {
    let number: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (is_state_series(&number) || is_bharat_series(&number)).then_some(number)
}

fn take_while(s: &str, pred: fn(u8) -> bool) -> (usize, &str) {
    let n = s.bytes().take_while(|b| pred(*b)).count();
    (n, &s[n..])
}

fn is_state_series(number: &str) -> bool {
    let (letters, rest) = take_while(number, |b| b.is_ascii_uppercase());
    let (district, rest) = take_while(rest, |b| b.is_ascii_digit());
    let (series, rest) = take_while(rest, |b| b.is_ascii_uppercase());
    let (digits, rest) = take_while(rest, |b| b.is_ascii_digit());
    letters == 2
        && (1..=2).contains(&district)
        && (1..=3).contains(&series)
        && (1..=4).contains(&digits)
        && rest.is_empty()
}

fn is_bharat_series(number: &str) -> bool {
    let (year, rest) = take_while(number, |b| b.is_ascii_digit());
    let Some(rest) = rest.strip_prefix("BH") else {
        return false;
    };
    let (digits, rest) = take_while(rest, |b| b.is_ascii_digit());
    let (letters, rest) = take_while(rest, |b| b.is_ascii_uppercase());
    year == 2 && digits == 4 && (1..=2).contains(&letters) && rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_upper_cased_and_stripped_of_separators() {
        assert_eq!(
            normalise_vehicle_number("mh 12-ab 1234").as_deref(),
            Some("MH12AB1234")
        );
        assert_eq!(
            normalise_vehicle_number("KA01A1").as_deref(),
            Some("KA01A1")
        );
        assert_eq!(
            normalise_vehicle_number("22 BH 1234 AA").as_deref(),
            Some("22BH1234AA")
        );
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "MH",
            "M12AB1234",
            "MH123AB1234",
            "MH12ABCD1234",
            "MH12AB12345",
            "MH12AB",
            "MH12AB12X",
        ] {
            assert_eq!(normalise_vehicle_number(bad), None, "{bad}");
        }
    }
}
