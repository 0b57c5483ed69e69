//! Dispatch records: who was notified of an order, and the order's
//! dispatch figures, written with their events in one transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::orders::Order;
use crate::outbox::{self, NewEvent};
use crate::schema::{order_notifications, orders, vehicles};

/// A transporter told about an order.
#[derive(Debug, Clone)]
pub struct Notified {
    /// The transporter.
    pub transporter_id: Uuid,
    /// How far its last beat was from the pickup.
    pub distance_m: f64,
}

/// Free vehicles per (transporter, vehicle key) among `transporters`.
pub async fn free_vehicle_counts(
    conn: &mut AsyncPgConnection,
    transporters: &[Uuid],
) -> QueryResult<Vec<(Uuid, String, i64)>> {
    vehicles::table
        .filter(vehicles::transporter_id.eq_any(transporters))
        .filter(vehicles::deleted_at.is_null())
        .filter(vehicles::status.eq("available"))
        .group_by((vehicles::transporter_id, vehicles::vehicle_key))
        .select((
            vehicles::transporter_id,
            vehicles::vehicle_key,
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .await
}

/// Records step `step` of order `order_id`: the notifications not made
/// before, the order's figures (only while it still searches), and the
/// events. Returns the order after, or `None` if it no longer searches.
pub async fn record_step(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    step: i32,
    online_candidates: i32,
    notified: &[Notified],
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> QueryResult<Option<Order>> {
    let rows: Vec<_> = notified
        .iter()
        .map(|n| {
            (
                order_notifications::order_id.eq(order_id),
                order_notifications::transporter_id.eq(n.transporter_id),
                order_notifications::step.eq(step),
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
    let order: Option<Order> =
        diesel::update(orders::table.find(order_id).filter(orders::status.eq_any([
            "created",
            "broadcasting",
            "active",
            "partially_filled",
        ])))
        .set((
            orders::notified_transporters
                .eq(orders::notified_transporters + i32::try_from(inserted).unwrap_or(i32::MAX)),
            orders::online_candidates.eq(diesel::dsl::sql::<diesel::sql_types::Integer>(
                "GREATEST(online_candidates, ",
            )
            .bind::<diesel::sql_types::Integer, _>(online_candidates)
            .sql(")")),
            orders::dispatch_attempts.eq(orders::dispatch_attempts + 1),
            orders::dispatch_state.eq("broadcasting"),
            orders::updated_at.eq(now),
            orders::version.eq(orders::version + 1),
        ))
        .returning(Order::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if order.is_some() {
        outbox::append(conn, events, now).await?;
    }
    Ok(order)
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
        .filter(orders::status.eq_any(["created", "broadcasting", "active", "partially_filled"]))
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
