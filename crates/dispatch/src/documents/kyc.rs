//! KYC decisions: an operator approves or rejects a driver whose profile is
//! complete (`weelo-server kyc approve|reject`). The decision, its audit row
//! and `driver_verification_changed` (to the driver and its transporter,
//! pushed to whoever has no socket) are one transaction. Whether an
//! unverified driver may be assigned is `kyc.require_verified_driver`.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use uuid::Uuid;
use weelo_persistence::documents;

use crate::events::{DriverVerificationChanged, Event, Room};
use crate::wire::iso;
use crate::{Dispatch, DispatchError, ErrorCode};

/// The `[kyc]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KycSettings {
    /// Refuse a confirm naming a driver whose KYC is not approved
    /// (`DRIVER_NOT_VERIFIED`).
    pub require_verified_driver: bool,
}

/// Approves or rejects `driver`'s KYC as `actor`; `false` when there was
/// no such driver with a completed profile.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    driver: Uuid,
    approve: bool,
    reason: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, DispatchError> {
    let decided = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let Some((id, transporter)) =
                documents::decide(conn, driver, approve, reason, actor, now).await?
            else {
                return Ok(false);
            };
            let mut audience = vec![Room::Driver(id)];
            audience.extend(transporter.map(Room::Transporter));
            let event = Event::DriverVerificationChanged(DriverVerificationChanged {
                driver_id: id,
                verification: if approve { "approved" } else { "rejected" },
                is_verified: approve,
                reason: reason.map(str::to_owned),
                decided_at: iso(now),
            })
            .to(audience, id);
            crate::events::append(conn, &[event], now).await?;
            Ok(true)
        })
        .await
        .map_err(weelo_persistence::PersistenceError::from)?;
    if decided {
        tracing::info!(driver.id = %driver, kyc.approved = approve, kyc.actor = actor, "KYC decided");
    }
    Ok(decided)
}

/// With `kyc.require_verified_driver` on, refuses `drivers` unless every
/// one's KYC is approved.
pub async fn check_drivers(state: &Dispatch, drivers: &[Uuid]) -> Result<(), DispatchError> {
    if !state.kyc.require_verified_driver || drivers.is_empty() {
        return Ok(());
    }
    let mut conn = state.conn().await?;
    let states = documents::verifications(&mut conn, drivers).await?;
    let unverified: Vec<Uuid> = drivers
        .iter()
        .copied()
        .filter(|d| !states.iter().any(|(id, v)| id == d && v == "approved"))
        .collect();
    if unverified.is_empty() {
        return Ok(());
    }
    Err(DispatchError::refused_with(
        ErrorCode::DriverNotVerified,
        "a driver's documents are not verified yet",
        serde_json::json!({ "driverIds": unverified }),
    ))
}
