//! Users of all three roles: lookups, login-time creation, profile edits,
//! drivers under a transporter.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::users;

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Ten bare digits.
    pub phone: String,
    /// `customer`, `transporter` or `driver`.
    pub role: String,
    /// Display name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Company or business name.
    pub company: Option<String>,
    /// GSTIN.
    pub gst_number: Option<String>,
    /// PAN.
    pub pan_number: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Photo URL.
    pub profile_photo: Option<String>,
    /// Driving licence number (drivers).
    pub license_number: Option<String>,
    /// App language (`en`, `hi`, …).
    pub preferred_language: Option<String>,
    /// The owning transporter (drivers only).
    pub transporter_id: Option<Uuid>,
    /// KYC done.
    pub is_verified: bool,
    /// Not suspended.
    pub is_active: bool,
    /// Last availability toggle (transporters and drivers).
    pub is_available: bool,
    /// Last request or heartbeat seen.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// A driver's KYC: `unverified`, `pending`, `approved`, `rejected`.
    pub verification: String,
}

/// Profile fields a user may change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    /// Display name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// GSTIN.
    pub gst_number: Option<String>,
    /// PAN.
    pub pan_number: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// App language.
    pub preferred_language: Option<String>,
}

/// A driver to create under a transporter.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewDriver<'a> {
    /// Driver's phone.
    pub phone: &'a str,
    /// Always `driver`.
    pub role: &'a str,
    /// Name.
    pub name: Option<&'a str>,
    /// Email.
    pub email: Option<&'a str>,
    /// Licence number.
    pub license_number: Option<&'a str>,
    /// The transporter.
    pub transporter_id: Uuid,
    /// Phone proven by OTP.
    pub is_verified: bool,
}

/// The user with this phone and role, if any.
pub async fn find_by_phone(
    conn: &mut AsyncPgConnection,
    phone: &str,
    role: &str,
) -> QueryResult<Option<User>> {
    users::table
        .filter(users::phone.eq(phone).and(users::role.eq(role)))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// The user with this id, if any.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// The users with these ids (missing ones are left out).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)
        .await
}

/// The user with this phone and role, created if new; the flag says whether
/// it was created now. Safe under concurrent logins of one phone.
pub async fn find_or_create(
    conn: &mut AsyncPgConnection,
    phone: &str,
    role: &str,
) -> QueryResult<(User, bool)> {
    let inserted = diesel::insert_into(users::table)
        .values((users::phone.eq(phone), users::role.eq(role)))
        .on_conflict((users::phone, users::role))
        .do_nothing()
        .returning(User::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match inserted {
        Some(user) => Ok((user, true)),
        None => users::table
            .filter(users::phone.eq(phone).and(users::role.eq(role)))
            .select(User::as_select())
            .first(conn)
            .await
            .map(|user| (user, false)),
    }
}

/// Applies `changes` and returns the updated user.
pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &ProfileChanges,
    now: DateTime<Utc>,
) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(now)))
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

/// Creates a driver; fails with a unique violation when the phone already
/// has a driver account.
pub async fn create_driver(
    conn: &mut AsyncPgConnection,
    driver: &NewDriver<'_>,
) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(driver)
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

/// A transporter's drivers, oldest first.
pub async fn drivers_of(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::transporter_id.eq(transporter_id))
        .filter(users::is_active.eq(true))
        .order(users::created_at.asc())
        .select(User::as_select())
        .load(conn)
        .await
}

/// Records that `id` was seen at `now`, at most every 30 s (a socket
/// heartbeat every few seconds must not become a write every few seconds).
pub async fn touch_last_seen(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let stale = now - chrono::Duration::seconds(30);
    diesel::update(
        users::table.find(id).filter(
            users::last_seen_at
                .is_null()
                .or(users::last_seen_at.lt(stale)),
        ),
    )
    .set(users::last_seen_at.eq(now))
    .execute(conn)
    .await
    .map(|_| ())
}

/// A driver's KYC form: licence number, and address and language when given.
pub async fn set_driver_profile(
    conn: &mut AsyncPgConnection,
    driver: Uuid,
    license_number: &str,
    address: Option<&str>,
    language: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(driver))
        .set((
            users::license_number.eq(license_number),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    if let Some(address) = address {
        diesel::update(users::table.find(driver))
            .set(users::address.eq(address))
            .execute(conn)
            .await?;
    }
    if let Some(language) = language {
        diesel::update(users::table.find(driver))
            .set(users::preferred_language.eq(language))
            .execute(conn)
            .await?;
    }
    Ok(1)
}
