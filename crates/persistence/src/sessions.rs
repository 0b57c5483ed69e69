//! Login sessions: the hashed refresh token, and the revocation that logout
//! sets (which also ends every access token issued for the session).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::sessions;

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct Session {
    /// Id; access tokens carry it as `sid`.
    pub id: Uuid,
    /// Whose.
    pub user_id: Uuid,
    /// Hash of the refresh token.
    pub refresh_token_hash: String,
    /// Device id the app sent at login.
    pub device_id: Option<String>,
    /// Device name the app sent at login.
    pub device_name: Option<String>,
    /// When the refresh token stops working.
    pub expires_at: DateTime<Utc>,
    /// Set by logout.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Login time.
    pub created_at: DateTime<Utc>,
}

/// A session to create at login.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    /// Whose.
    pub user_id: Uuid,
    /// Hash of the refresh token.
    pub refresh_token_hash: &'a str,
    /// Device id.
    pub device_id: Option<&'a str>,
    /// Device name.
    pub device_name: Option<&'a str>,
    /// Refresh token expiry.
    pub expires_at: DateTime<Utc>,
    /// Login time.
    pub created_at: DateTime<Utc>,
}

/// Creates a session.
pub async fn create(
    conn: &mut AsyncPgConnection,
    session: &NewSession<'_>,
) -> QueryResult<Session> {
    diesel::insert_into(sessions::table)
        .values(session)
        .returning(Session::as_returning())
        .get_result(conn)
        .await
}

/// The live session whose refresh token hashes to `hash`.
pub async fn find_live_by_refresh_hash(
    conn: &mut AsyncPgConnection,
    hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Session>> {
    sessions::table
        .filter(sessions::refresh_token_hash.eq(hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .first(conn)
        .await
        .optional()
}

/// Whether session `id` of `user_id` is neither revoked nor expired, and
/// its user is not switched off.
pub async fn is_live(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    use crate::schema::users;
    diesel::select(diesel::dsl::exists(
        sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .filter(users::is_active.eq(true)),
    ))
    .get_result(conn)
    .await
}

/// Revokes session `id`; returns whether it was live.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}

/// Deletes sessions that ended (expired or revoked) before `before`: they
/// can never be used again, and the table would otherwise only grow.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .lt(before)
                .or(sessions::revoked_at.lt(before)),
        ),
    )
    .execute(conn)
    .await
}
