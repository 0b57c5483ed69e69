//! Push tokens of users' devices.

use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::device_tokens;

/// Stores `token` for `user_id` (moving it if another user had it: a device
/// belongs to whoever logged in on it last).
pub async fn register(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    token: &str,
    device_type: Option<&str>,
    device_id: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(device_tokens::table)
        .values((
            device_tokens::token.eq(token),
            device_tokens::user_id.eq(user_id),
            device_tokens::device_type.eq(device_type),
            device_tokens::device_id.eq(device_id),
        ))
        .on_conflict(device_tokens::token)
        .do_update()
        .set((
            device_tokens::user_id.eq(excluded(device_tokens::user_id)),
            device_tokens::device_type.eq(excluded(device_tokens::device_type)),
            device_tokens::device_id.eq(excluded(device_tokens::device_id)),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Removes `token` if it is `user_id`'s; returns whether it was.
pub async fn unregister(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    token: &str,
) -> QueryResult<bool> {
    diesel::delete(
        device_tokens::table
            .filter(device_tokens::token.eq(token))
            .filter(device_tokens::user_id.eq(user_id)),
    )
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}
