//! Login sessions (one per device login, found by the hash of its refresh
//! token) and the per-address limits on OTP calls.

use chrono::Duration;
use uuid::Uuid;
use weelo_persistence::limits::{self, WindowLimit};
use weelo_persistence::sessions::{self, NewSession, Session};

use crate::{Dispatch, DispatchError};

/// Stores a new session.
pub async fn open(dispatch: &Dispatch, session: &NewSession<'_>) -> Result<Session, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(sessions::create(&mut conn, session).await?)
}

/// The live session whose refresh token hashes to `hash`.
pub async fn find_by_refresh_hash(
    dispatch: &Dispatch,
    hash: &str,
) -> Result<Option<Session>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(sessions::find_live_by_refresh_hash(&mut conn, hash, dispatch.clock.now()).await?)
}

/// Whether session `id` of `user` is live and its user active.
pub async fn is_live(dispatch: &Dispatch, id: Uuid, user: Uuid) -> Result<bool, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(sessions::is_live(&mut conn, id, user, dispatch.clock.now()).await?)
}

/// Ends session `id`; `false` when it had ended already.
pub async fn revoke(dispatch: &Dispatch, id: Uuid) -> Result<bool, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(sessions::revoke(&mut conn, id, dispatch.clock.now()).await?)
}

/// Counts one hit of `key` against `limit`; the wait when the window's hits
/// are used up. Kept in PostgreSQL: never lifted by a Redis outage.
pub async fn hit_limit(
    dispatch: &Dispatch,
    key: &str,
    limit: WindowLimit,
) -> Result<Result<(), Duration>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(limits::hit(&mut conn, key, limit, dispatch.clock.now()).await?)
}
