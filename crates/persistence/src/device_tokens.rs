//! Push tokens of users' devices.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::device_tokens;

/// Stores `token` for `user_id`. A token another user holds moves only when
/// the same device asks (its `device_id` matches the stored one: the phone
/// changed hands or users), never because someone knows the token alone.
/// Returns `false` when it was refused (and nothing changed).
pub async fn register(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    token: &str,
    device_type: Option<&str>,
    device_id: Option<&str>,
) -> QueryResult<bool> {
    use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO device_tokens AS t (token, user_id, device_type, device_id) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, \
             device_type = EXCLUDED.device_type, device_id = EXCLUDED.device_id \
         WHERE t.user_id = EXCLUDED.user_id \
            OR (t.device_id IS NOT NULL AND t.device_id = EXCLUDED.device_id)",
    )
    .bind::<Text, _>(token)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Nullable<Text>, _>(device_type)
    .bind::<Nullable<Text>, _>(device_id)
    .execute(conn)
    .await
    .map(|rows| rows == 1)
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
