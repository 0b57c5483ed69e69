//! A transporter removes one of its drivers (`DELETE profile/drivers/{id}`):
//! in one transaction the account is switched off and its personal
//! details erased, its sessions revoked and its document rows deleted,
//! with `driver_deleted` to the fleet; then the documents' objects are
//! deleted from storage. A driver with a trip offered or under way is
//! refused (`DRIVER_ON_TRIP`); another fleet's driver is not found.
//!
//! If the process stops between the commit and the object deletes, the
//! objects are orphans (no row names them) and the orphan sweep removes
//! them.

use diesel_async::AsyncConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::driver_removal::{self, Removal};
use weelo_persistence::fleet_stats;

use crate::events::{self, DriverDeleted, Event, Room};
use crate::{Dispatch, DispatchError, ErrorCode};

/// Removes `driver` from `transporter`'s fleet.
pub async fn remove_driver(
    state: &Dispatch,
    transporter: Uuid,
    driver: Uuid,
) -> Result<Value, DispatchError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let outcome = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let removal = driver_removal::remove(conn, driver, transporter, now).await?;
            if let Removal::Removed { .. } = removal {
                let driver_stats = fleet_stats::drivers(conn, transporter).await?;
                let deleted = Event::DriverDeleted(DriverDeleted {
                    action: "deleted",
                    driver_id: driver,
                    message: "Driver removed from your fleet",
                    driver_stats,
                });
                events::append(
                    conn,
                    &[deleted.to_fleet([Room::Transporter(transporter)])],
                    now,
                )
                .await?;
                return Ok((removal, Some(driver_stats)));
            }
            Ok((removal, None))
        })
        .await
        .map_err(weelo_persistence::PersistenceError::from)?;
    match outcome {
        (Removal::NotFound, _) => Err(DispatchError::refused(
            ErrorCode::DriverNotFound,
            "driver not found",
        )),
        (Removal::OnTrip, _) => Err(DispatchError::refused(
            ErrorCode::DriverOnTrip,
            "the driver has a trip offered or under way; remove them once it ends",
        )),
        (Removal::Removed { documents }, driver_stats) => {
            state.wake_relay();
            crate::documents::forget_objects(state, &documents).await;
            tracing::info!(driver.id = %driver, documents = documents.len(), "driver removed from its fleet");
            Ok(json!({
                "driverId": driver,
                "removed": true,
                "documentsDeleted": documents.len(),
                "driverStats": driver_stats,
            }))
        }
    }
}
