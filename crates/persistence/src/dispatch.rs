//! Dispatch records: who was notified of an order, and the order's
//! dispatch figures, written with their events in one transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_availability::VehicleStatus;
use weelo_orders::DispatchState;

use crate::cached::cached;
use crate::outbox;
use crate::rows::Order;
pub use crate::rows::{Notified, Step};
use crate::schema::{dispatch_schedule, order_notifications, orders, vehicles};

/// Free vehicles per (transporter, vehicle key) among `transporters`.
pub async fn free_vehicle_counts(
    conn: &mut AsyncPgConnection,
    transporters: &[Uuid],
) -> QueryResult<Vec<(Uuid, String, i64)>> {
    vehicles::table
        .filter(vehicles::transporter_id.eq_any(transporters))
        .filter(vehicles::deleted_at.is_null())
        .filter(vehicles::status.eq(VehicleStatus::Available.as_str()))
        .group_by((vehicles::transporter_id, vehicles::vehicle_key))
        .select((
            vehicles::transporter_id,
            vehicles::vehicle_key,
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .await
}

/// Locks order `id` for its due dispatch step if it still searches, has
/// time left and the step's time has come; `None` when another instance is
/// on it (`SKIP LOCKED`) or nothing is due.
pub async fn lock_for_step(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Order>> {
    orders::table
        .find(id)
        .filter(orders::status.eq_any(crate::rows::searching_names()))
        .filter(orders::expires_at.gt(now))
        .filter(
            orders::id.eq_any(
                dispatch_schedule::table
                    .filter(dispatch_schedule::order_id.eq(id))
                    .filter(dispatch_schedule::due_at.le(now))
                    .select(dispatch_schedule::order_id),
            ),
        )
        .select(Order::as_select())
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()
}

/// Sets (or moves) the order's next step to `due_at`; `None` removes it.
pub async fn schedule(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    due_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    match due_at {
        None => unschedule(conn, order_id).await,
        Some(due_at) => cached(
            diesel::insert_into(dispatch_schedule::table)
                .values((
                    dispatch_schedule::order_id.eq(order_id),
                    dispatch_schedule::due_at.eq(due_at),
                ))
                .on_conflict(dispatch_schedule::order_id)
                .do_update()
                .set(dispatch_schedule::due_at.eq(due_at)),
        )
        .execute(conn)
        .await
        .map(drop),
    }
}

/// Removes the order's next step (it stopped searching or is filled).
pub async fn unschedule(conn: &mut AsyncPgConnection, order_id: Uuid) -> QueryResult<()> {
    diesel::delete(dispatch_schedule::table.find(order_id))
        .execute(conn)
        .await
        .map(drop)
}

/// `order`, about to be created, as it stands after its first `step`.
pub fn with_first_step(mut order: Order, step: &Step<'_>) -> Order {
    order.dispatch_attempts = step.number;
    order.online_candidates = step.online_candidates;
    order.notified_transporters = i32::try_from(step.notified.len()).unwrap_or(i32::MAX);
    order.dispatch_state = DispatchState::Broadcasting;
    order
}

/// Records a step of order `order_id` (whose row the caller locked): the
/// notifications not made before, the order's figures and next step, and
/// the events. Returns the order after, or `None` if it no longer searches.
pub async fn record_step(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    step: &Step<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Option<Order>> {
    let (notified, events, online_candidates) =
        (step.notified, step.events, step.online_candidates);
    let rows: Vec<_> = notified
        .iter()
        .map(|n| {
            (
                order_notifications::order_id.eq(order_id),
                order_notifications::transporter_id.eq(n.transporter_id),
                order_notifications::step.eq(step.number),
                order_notifications::distance_m.eq(n.distance_m),
                order_notifications::notified_at.eq(now),
            )
        })
        .collect();
    let inserted = if rows.is_empty() {
        0
    } else {
        diesel::insert_into(order_notifications::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?
    };
    let order: Option<Order> = cached(
        diesel::update(
            orders::table
                .find(order_id)
                .filter(orders::status.eq_any(crate::rows::searching_names())),
        )
        .set((
            orders::notified_transporters
                .eq(orders::notified_transporters + i32::try_from(inserted).unwrap_or(i32::MAX)),
            orders::online_candidates.eq(diesel::dsl::sql::<diesel::sql_types::Integer>(
                "GREATEST(online_candidates, ",
            )
            .bind::<diesel::sql_types::Integer, _>(online_candidates)
            .sql(")")),
            orders::dispatch_attempts.eq(diesel::dsl::sql::<diesel::sql_types::Integer>(
                "GREATEST(dispatch_attempts, ",
            )
            .bind::<diesel::sql_types::Integer, _>(step.number)
            .sql(")")),
            orders::dispatch_state.eq(DispatchState::Broadcasting.as_str()),
            orders::updated_at.eq(now),
            orders::version.eq(orders::version + 1),
        ))
        .returning(Order::as_returning()),
    )
    .get_result(conn)
    .await
    .optional()?;
    if order.is_some() {
        outbox::append(conn, events, now).await?;
    }
    schedule(conn, order_id, order.as_ref().and(step.next_at)).await?;
    Ok(order)
}

/// The transporters notified of `order_id`.
pub async fn notified_of(conn: &mut AsyncPgConnection, order_id: Uuid) -> QueryResult<Vec<Uuid>> {
    order_notifications::table
        .filter(order_notifications::order_id.eq(order_id))
        .select(order_notifications::transporter_id)
        .load(conn)
        .await
}

/// Whether `transporter_id` was notified of `order_id`.
pub async fn was_notified(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    transporter_id: Uuid,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        order_notifications::table
            .filter(order_notifications::order_id.eq(order_id))
            .filter(order_notifications::transporter_id.eq(transporter_id)),
    ))
    .get_result(conn)
    .await
}

/// Whether `transporter_id` declined the broadcast of `order_id` (a
/// decline stands until a truck of the order is offered again).
pub async fn has_declined(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    transporter_id: Uuid,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        order_notifications::table
            .filter(order_notifications::order_id.eq(order_id))
            .filter(order_notifications::transporter_id.eq(transporter_id))
            .filter(order_notifications::declined_at.is_not_null()),
    ))
    .get_result(conn)
    .await
}

/// A truck of `order_id` is offered again (a driver declined or timed
/// out): earlier declines of the order no longer stand.
pub async fn forget_declines(conn: &mut AsyncPgConnection, order_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        order_notifications::table
            .filter(order_notifications::order_id.eq(order_id))
            .filter(order_notifications::declined_at.is_not_null()),
    )
    .set(order_notifications::declined_at.eq(None::<DateTime<Utc>>))
    .execute(conn)
    .await
}

/// The searching orders `transporter_id` was told about and has not
/// declined, newest first, with its distance from each pickup.
pub async fn active_for(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(Order, f64)>> {
    order_notifications::table
        .inner_join(orders::table)
        .filter(order_notifications::transporter_id.eq(transporter_id))
        .filter(order_notifications::declined_at.is_null())
        .filter(orders::status.eq_any(crate::rows::searching_names()))
        .filter(orders::expires_at.gt(now))
        .order(order_notifications::notified_at.desc())
        .select((Order::as_select(), order_notifications::distance_m))
        .load(conn)
        .await
}

/// Marks the broadcast of `order_id` declined by `transporter_id`; `false`
/// when it was never sent to them.
pub async fn decline(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    transporter_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = order_notifications::table
        .filter(order_notifications::order_id.eq(order_id))
        .filter(order_notifications::transporter_id.eq(transporter_id));
    let updated = diesel::update(target.filter(order_notifications::declined_at.is_null()))
        .set(order_notifications::declined_at.eq(now))
        .execute(conn)
        .await?;
    if updated == 1 {
        return Ok(true);
    }
    was_notified(conn, order_id, transporter_id).await
}

/// Records that `transporter_id`'s app acknowledged the offer of `order_id`
/// at `now` (the first acknowledgement counts); returns when it was
/// offered, or `None` when it was not offered or was acknowledged already.
pub async fn acknowledge(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    transporter_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    diesel::update(
        order_notifications::table
            .filter(order_notifications::order_id.eq(order_id))
            .filter(order_notifications::transporter_id.eq(transporter_id))
            .filter(order_notifications::acked_at.is_null()),
    )
    .set(order_notifications::acked_at.eq(now))
    .returning(order_notifications::notified_at)
    .get_result(conn)
    .await
    .optional()
}
