//! What the apps read about assignments: the driver's list and one
//! assignment for whoever may see it, in the captain app's shape.

use serde_json::{Value, json};
use uuid::Uuid;
use weelo_orders::Role;
use weelo_persistence::assignments as stored;
use weelo_persistence::orders;

use super::{AssignmentError, views};
use crate::{Dispatch, DispatchError};

/// Page `page` (from 1) of the driver's assignments, optionally of one
/// status.
pub async fn of_driver(
    dispatch: &Dispatch,
    driver: Uuid,
    status: Option<&str>,
    page: i64,
    limit: i64,
) -> Result<Value, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let (list, total) =
        stored::of_driver(&mut conn, driver, status, limit, (page - 1) * limit).await?;
    let views = views(&mut conn, &list, now).await?;
    Ok(json!({
        "assignments": views,
        "total": total,
        "page": page,
        "limit": limit,
        "hasMore": page * limit < total,
    }))
}

/// One assignment, for its driver, its transporter or the order's customer.
pub async fn one(
    dispatch: &Dispatch,
    role: Role,
    user: Uuid,
    id: Uuid,
) -> Result<Value, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let found = stored::find(&mut conn, id).await?;
    let allowed = match &found {
        None => false,
        Some(a) => match role {
            Role::Driver => a.driver_id == user,
            Role::Transporter => a.transporter_id == user,
            Role::Customer => orders::find(&mut conn, a.order_id)
                .await?
                .is_some_and(|o| o.customer_id == user),
        },
    };
    let Some(found) = found.filter(|_| allowed) else {
        return Err(AssignmentError::NotFound.into());
    };
    Ok(views(&mut conn, std::slice::from_ref(&found), now)
        .await?
        .pop()
        .ok_or(AssignmentError::NotFound)?)
}

/// The driver's assignments still waiting for its answer, as the events
/// (`trip_assigned`) that announced them.
pub async fn pending_of_driver(
    dispatch: &Dispatch,
    driver: Uuid,
) -> Result<Vec<(String, Value)>, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    Ok(super::pending_trips(&mut conn, driver, now, dispatch.orders.driver_answer_secs).await?)
}
