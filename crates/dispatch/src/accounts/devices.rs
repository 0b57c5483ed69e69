//! Push device tokens: a token belongs to one user at a time, and moves
//! only when the same device asks.

use uuid::Uuid;
use weelo_persistence::device_tokens;

use crate::{Dispatch, DispatchError, ErrorCode};

/// Registers `token` for `user`; `DEVICE_TOKEN_IN_USE` when it is another
/// user's on another device.
pub async fn register(
    dispatch: &Dispatch,
    user: Uuid,
    token: &str,
    device_type: Option<&str>,
    device_id: Option<&str>,
) -> Result<(), DispatchError> {
    let mut conn = dispatch.conn().await?;
    if device_tokens::register(&mut conn, user, token, device_type, device_id).await? {
        Ok(())
    } else {
        Err(DispatchError::refused(
            ErrorCode::DeviceTokenInUse,
            "this device token belongs to another account; log out there first",
        ))
    }
}

/// Removes `token` if it is `user`'s; whether it was.
pub async fn unregister(
    dispatch: &Dispatch,
    user: Uuid,
    token: &str,
) -> Result<bool, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(device_tokens::unregister(&mut conn, user, token).await?)
}
