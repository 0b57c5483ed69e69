//! Removing a driver from its fleet, in the caller's transaction: the
//! account is switched off and its phone, email, address and licence
//! erased (the number is free for a new onboarding), its sessions revoked,
//! its device tokens and document rows deleted. The row stays, with its
//! name, because the fleet's past trips name it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_orders::assignment::LIVE_ASSIGNMENT;

use crate::documents::Document;
use crate::schema::{assignments, device_tokens, documents, sessions, users};
use crate::stored::names;

/// What a removal found.
#[derive(Debug)]
pub enum Removal {
    /// No active driver of that fleet has this id.
    NotFound,
    /// The driver has a trip offered or under way.
    OnTrip,
    /// Removed; the document rows deleted, whose objects are still to go.
    Removed {
        /// The deleted document rows.
        documents: Vec<Document>,
    },
}

/// Removes `driver` from `transporter`'s fleet at `now` (locking the
/// driver's row first, so a confirm naming it waits and then sees it gone).
pub async fn remove(
    conn: &mut AsyncPgConnection,
    driver: Uuid,
    transporter: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Removal> {
    let found: Option<Uuid> = users::table
        .find(driver)
        .filter(users::role.eq("driver"))
        .filter(users::transporter_id.eq(transporter))
        .filter(users::is_active.eq(true))
        .select(users::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    if found.is_none() {
        return Ok(Removal::NotFound);
    }
    let on_trip: bool = diesel::select(diesel::dsl::exists(
        assignments::table
            .filter(assignments::driver_id.eq(driver))
            .filter(assignments::status.eq_any(names(&LIVE_ASSIGNMENT))),
    ))
    .get_result(conn)
    .await?;
    if on_trip {
        return Ok(Removal::OnTrip);
    }
    diesel::update(users::table.find(driver))
        .set((
            users::is_active.eq(false),
            users::is_available.eq(false),
            users::phone.eq(format!("removed:{driver}")),
            users::email.eq(None::<String>),
            users::address.eq(None::<String>),
            users::license_number.eq(None::<String>),
            users::profile_photo.eq(None::<String>),
            users::is_verified.eq(false),
            users::verification.eq("unverified"),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(driver))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .await?;
    diesel::delete(device_tokens::table.filter(device_tokens::user_id.eq(driver)))
        .execute(conn)
        .await?;
    let documents = diesel::delete(documents::table.filter(documents::owner_id.eq(driver)))
        .returning(Document::as_returning())
        .get_results(conn)
        .await?;
    Ok(Removal::Removed { documents })
}
