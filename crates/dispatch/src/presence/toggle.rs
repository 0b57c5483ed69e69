//! The availability toggle of a transporter or driver: one compare-and-set
//! under the cooldown, so a flapping switch cannot flood the dispatch index.
//! A driver's switch tells its fleet owner (`driver_status_changed`) in the
//! same transaction: the list of drivers who can be assigned follows it.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;
use weelo_orders::Role;
use weelo_persistence::availability::{self, Toggle};
use weelo_persistence::{fleet_stats, users};

use crate::events::{self, DriverStatusChanged, Event, Room};
use crate::fleet::FleetError;
use crate::wire::iso;
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
            let outcome = availability::toggle(conn, id, available, cooldown, now).await?;
            if outcome == Toggle::Changed {
                tell_the_fleet(conn, id, available, now).await?;
            }
            Ok(outcome)
        })
        .await?;
    match outcome {
        Toggle::Changed => {
            dispatch.wake_relay();
            Ok(true)
        }
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

/// When `id` is a driver: `driver_status_changed` to its transporter.
async fn tell_the_fleet(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    online: bool,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    let Some(driver) = users::find(conn, id).await? else {
        return Ok(());
    };
    let Some(transporter) = driver
        .transporter_id
        .filter(|_| Role::parse(&driver.role) == Some(Role::Driver))
    else {
        return Ok(());
    };
    let driver_stats = fleet_stats::drivers(conn, transporter).await?;
    let changed = Event::DriverStatusChanged(DriverStatusChanged {
        driver_id: id,
        driver_name: driver.name.unwrap_or_default(),
        is_online: online,
        action: if online { "online" } else { "offline" },
        timestamp: iso(now),
        driver_stats,
    });
    events::append(
        conn,
        &[changed.to_fleet([Room::Transporter(transporter)])],
        now,
    )
    .await?;
    Ok(())
}
