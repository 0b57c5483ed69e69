//! The availability toggle of a transporter or driver: one compare-and-set
//! under the cooldown, so a flapping switch cannot flood the dispatch index.

use chrono::Duration;
use diesel_async::AsyncConnection;
use uuid::Uuid;
use weelo_persistence::availability::{self, Toggle};

use crate::fleet::FleetError;
use crate::{Dispatch, DispatchError, ErrorCode};

/// Sets `id`'s availability unless the last switch was less than
/// `cooldown_ms` ago (`TOGGLE_RATE_LIMITED` with the wait); answers whether
/// it changed.
pub async fn toggle(
    dispatch: &Dispatch,
    id: Uuid,
    available: bool,
    cooldown_ms: i64,
) -> Result<bool, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let cooldown = Duration::milliseconds(cooldown_ms);
    let outcome = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            availability::toggle(conn, id, available, cooldown, now).await
        })
        .await?;
    match outcome {
        Toggle::Changed => Ok(true),
        Toggle::Unchanged { .. } => Ok(false),
        Toggle::TooSoon { retry_after } => Err(DispatchError::RateLimited {
            code: ErrorCode::ToggleRateLimited,
            message: "please wait a moment before switching again".to_owned(),
            retry_after_ms: u64::try_from(retry_after.num_milliseconds())
                .unwrap_or(1)
                .max(1),
        }),
        Toggle::NotFound => Err(FleetError::UserNotFound.into()),
    }
}
