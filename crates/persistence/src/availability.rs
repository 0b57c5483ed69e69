//! The last availability toggle of a transporter or driver, and the vehicle
//! keys a transporter can be dispatched for.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_availability::VehicleStatus;

use crate::schema::{users, vehicles};

/// The outcome of a toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// Set to the new value now.
    Changed,
    /// It already had that value.
    Unchanged {
        /// When it was last changed.
        changed_at: Option<DateTime<Utc>>,
    },
    /// The last change was less than the cooldown ago.
    TooSoon {
        /// Until a change is allowed.
        retry_after: Duration,
    },
    /// No such user.
    NotFound,
}

/// Sets `user_id`'s availability to `available` unless it already is, or it
/// changed less than `cooldown` ago. Locks the row: run in a transaction.
pub async fn toggle(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    available: bool,
    cooldown: Duration,
    now: DateTime<Utc>,
) -> QueryResult<Toggle> {
    let current: Option<(bool, Option<DateTime<Utc>>)> = users::table
        .find(user_id)
        .select((users::is_available, users::availability_changed_at))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((is_available, changed_at)) = current else {
        return Ok(Toggle::NotFound);
    };
    if is_available == available {
        return Ok(Toggle::Unchanged { changed_at });
    }
    if let Some(changed_at) = changed_at {
        let retry_after = changed_at + cooldown - now;
        if retry_after > Duration::zero() {
            return Ok(Toggle::TooSoon { retry_after });
        }
    }
    diesel::update(users::table.find(user_id))
        .set((
            users::is_available.eq(available),
            users::availability_changed_at.eq(now),
            users::last_seen_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(Toggle::Changed)
}

/// `user_id`'s availability and when it last changed.
pub async fn get(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<Option<(bool, Option<DateTime<Utc>>)>> {
    users::table
        .find(user_id)
        .select((users::is_available, users::availability_changed_at))
        .first(conn)
        .await
        .optional()
}

/// The distinct keys of the transporter's vehicles that are free now.
pub async fn free_vehicle_keys(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
) -> QueryResult<Vec<String>> {
    vehicles::table
        .filter(vehicles::transporter_id.eq(transporter_id))
        .filter(vehicles::deleted_at.is_null())
        .filter(vehicles::status.eq(VehicleStatus::Available.as_str()))
        .select(vehicles::vehicle_key)
        .distinct()
        .order(vehicles::vehicle_key)
        .load(conn)
        .await
}
