//! Users as the apps see them: found by id or phone, created at first
//! login, their profile edited, a fleet's drivers listed.

use uuid::Uuid;
use weelo_orders::Role;
use weelo_persistence::users::{self, ProfileChanges, User};

use crate::{Dispatch, DispatchError};

/// The user `id`, if it exists.
pub async fn find(dispatch: &Dispatch, id: Uuid) -> Result<Option<User>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(users::find(&mut conn, id).await?)
}

/// The account of `phone` in `role`, if it exists.
pub async fn find_by_phone(
    dispatch: &Dispatch,
    phone: &str,
    role: Role,
) -> Result<Option<User>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(users::find_by_phone(&mut conn, phone, role.as_str()).await?)
}

/// The driver of `phone` and its transporter (when it has one).
pub async fn driver_with_transporter(
    dispatch: &Dispatch,
    phone: &str,
) -> Result<Option<(User, Option<User>)>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    let Some(driver) = users::find_by_phone(&mut conn, phone, Role::Driver.as_str()).await? else {
        return Ok(None);
    };
    let transporter = match driver.transporter_id {
        Some(id) => users::find(&mut conn, id).await?,
        None => None,
    };
    Ok(Some((driver, transporter)))
}

/// The account of `phone` in `role`, created if new; `true` when it was.
pub async fn find_or_create(
    dispatch: &Dispatch,
    phone: &str,
    role: Role,
) -> Result<(User, bool), DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(users::find_or_create(&mut conn, phone, role.as_str()).await?)
}

/// Applies `changes` to `id`'s profile.
pub async fn update_profile(
    dispatch: &Dispatch,
    id: Uuid,
    changes: &ProfileChanges,
) -> Result<User, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(users::update_profile(&mut conn, id, changes, dispatch.clock.now()).await?)
}

/// The transporter's drivers, oldest first.
pub async fn drivers_of(
    dispatch: &Dispatch,
    transporter: Uuid,
) -> Result<Vec<User>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(users::drivers_of(&mut conn, transporter).await?)
}

/// The transporter's drivers with what each is doing now (its live trip
/// and vehicle), its completed trips and its rating, oldest first: three
/// queries, whatever the fleet's size.
pub async fn fleet_drivers(
    dispatch: &Dispatch,
    transporter: Uuid,
) -> Result<Vec<crate::accounts::dto::FleetDriverDto>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    let drivers = users::drivers_of(&mut conn, transporter).await?;
    let work = weelo_persistence::driver_figures::work_of_fleet(&mut conn, transporter).await?;
    let ids: Vec<Uuid> = drivers.iter().map(|d| d.id).collect();
    let ratings = weelo_persistence::ratings::averages_of(&mut conn, &ids).await?;
    Ok(drivers
        .iter()
        .map(|d| {
            crate::accounts::dto::FleetDriverDto::new(d, d.is_available, work.get(&d.id))
                .rated(ratings.get(&d.id).map(|r| r.stars))
        })
        .collect())
}

/// Marks `id` as seen now (at most every 30 s).
pub async fn touch_last_seen(dispatch: &Dispatch, id: Uuid) -> Result<(), DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(users::touch_last_seen(&mut conn, id, dispatch.clock.now()).await?)
}
