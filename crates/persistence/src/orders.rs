//! Orders and their truck requests: create, read, cancel and expire, each a
//! compare-and-set inside the caller's transaction, with its outbox events.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;
use weelo_orders::DispatchState;
use weelo_orders::HoldStatus;
use weelo_orders::assignment::ON_THE_ROAD;
use weelo_orders::filling::EndReason;
use weelo_orders::input::{Place, ValidOrder};
use weelo_orders::status::SEARCHING;
use weelo_orders::{OrderStatus, TruckStatus};

pub use crate::rows::{AnswerKey, Order, TruckRequest, lock_order as lock};
use crate::schema::{orders, truck_requests};

use crate::stored::names;

/// Why a create did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateRefused {
    /// The customer already has a searching order (the partial unique index said so).
    ActiveOrderExists,
    /// The idempotency key already has an answer (or is being answered).
    KeyTaken,
}

/// The rows of a new order as they will be stored: ids are made here, so
/// the answer can be built, stored with the key and put in the outbox in
/// the same single statement.
pub fn new_rows(
    customer_id: Uuid,
    order: &ValidOrder,
    vehicle_keys: &[String],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Order, Vec<TruckRequest>) {
    let row = Order {
        id: Uuid::new_v4(),
        customer_id,
        pickup_latitude: order.pickup.latitude,
        pickup_longitude: order.pickup.longitude,
        pickup_address: order.pickup.address.clone(),
        pickup_city: order.pickup.city.clone(),
        pickup_state: order.pickup.state.clone(),
        drop_latitude: order.drop.latitude,
        drop_longitude: order.drop.longitude,
        drop_address: order.drop.address.clone(),
        drop_city: order.drop.city.clone(),
        drop_state: order.drop.state.clone(),
        stops: serde_json::Value::Array(order.stops.iter().map(place_json).collect()),
        distance_km: order.distance_km,
        goods_type: order.goods_type.clone(),
        total_trucks: order.total_trucks,
        trucks_filled: 0,
        total_amount: order.total_amount,
        status: OrderStatus::Active,
        dispatch_state: DispatchState::Queued,
        dispatch_attempts: 0,
        online_candidates: 0,
        notified_transporters: 0,
        reason_code: None,
        cancel_reason: None,
        expires_at,
        version: 1,
        created_at: now,
        updated_at: now,
        cancelled_at: None,
        expired_at: None,
        completed_at: None,
    };
    let mut trucks = Vec::new();
    for (line, key) in order.lines.iter().zip(vehicle_keys) {
        for _ in 0..line.quantity {
            trucks.push(TruckRequest {
                id: Uuid::new_v4(),
                order_id: row.id,
                request_number: i32::try_from(trucks.len() + 1).unwrap_or(i32::MAX),
                vehicle_type: line.vehicle_type.clone(),
                vehicle_subtype: line.vehicle_subtype.clone(),
                vehicle_key: key.clone(),
                price_per_truck: line.price_per_truck,
                status: TruckStatus::Searching,
                hold_id: None,
                transporter_id: None,
                vehicle_id: None,
                driver_id: None,
                assigned_at: None,
                created_at: now,
                updated_at: now,
                client_price_per_truck: Some(line.client_price_per_truck),
                server_price_per_truck: line.server_price_per_truck,
            });
        }
    }
    (row, trucks)
}

/// Creates the order in one statement (so one round trip and no explicit
/// transaction) with its first dispatch step, planned by the caller before
/// anything is written: the batch of one of
/// [`crate::order_batch::create_all`], which claims the key with its answer
/// and writes the order, its trucks, the notifications, `order_created`
/// and the step's events, and the next step's schedule, or nothing. A
/// second searching order of the customer trips the partial unique index:
/// [`CreateRefused::ActiveOrderExists`].
pub async fn create(
    conn: &mut AsyncPgConnection,
    item: crate::order_batch::NewOrder<'_>,
) -> QueryResult<Result<(), CreateRefused>> {
    match crate::order_batch::create_all(conn, &[item]).await {
        Ok(written) if written == [true] => Ok(Ok(())),
        Ok(_) => Ok(Err(CreateRefused::KeyTaken)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        )) if info.constraint_name() == Some("orders_one_searching_per_customer") => {
            Ok(Err(CreateRefused::ActiveOrderExists))
        }
        Err(error) => Err(error),
    }
}

fn place_json(place: &Place) -> serde_json::Value {
    json!({
        "latitude": place.latitude, "longitude": place.longitude,
        "address": place.address, "city": place.city, "state": place.state,
    })
}

/// The customer's order `id`, if it is theirs.
pub async fn find_for_customer(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Order>> {
    orders::table
        .filter(orders::id.eq(id))
        .filter(orders::customer_id.eq(customer_id))
        .select(Order::as_select())
        .first(conn)
        .await
        .optional()
}

/// The customer's searching order whose window is still open, if any.
pub async fn searching_of(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Order>> {
    // The partial unique index allows one searching order per customer.
    Ok(searching_any(conn, customer_id)
        .await?
        .filter(|order| order.expires_at > now))
}

/// The customer's searching order, whatever its deadline (the index allows one).
pub async fn searching_any(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
) -> QueryResult<Option<Order>> {
    orders::table
        .filter(orders::customer_id.eq(customer_id))
        .filter(orders::status.eq_any(names(&SEARCHING)))
        .select(Order::as_select())
        .first(conn)
        .await
        .optional()
}

/// The trucks of an order, by request number.
pub async fn trucks_of(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Vec<TruckRequest>> {
    truck_requests::table
        .filter(truck_requests::order_id.eq(order_id))
        .order(truck_requests::request_number.asc())
        .select(TruckRequest::as_select())
        .load(conn)
        .await
}

/// The orders with these ids (missing ones are left out).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Order>> {
    orders::table
        .filter(orders::id.eq_any(ids))
        .select(Order::as_select())
        .load(conn)
        .await
}

/// The trucks with these ids.
pub async fn trucks_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<TruckRequest>> {
    truck_requests::table
        .filter(truck_requests::id.eq_any(ids))
        .select(TruckRequest::as_select())
        .load(conn)
        .await
}

/// The trucks of several orders.
pub async fn trucks_of_many(
    conn: &mut AsyncPgConnection,
    order_ids: &[Uuid],
) -> QueryResult<Vec<TruckRequest>> {
    truck_requests::table
        .filter(truck_requests::order_id.eq_any(order_ids))
        .order((
            truck_requests::order_id,
            truck_requests::request_number.asc(),
        ))
        .select(TruckRequest::as_select())
        .load(conn)
        .await
}

/// A page of the customer's orders, newest first, and the total.
pub async fn history(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Order>, i64)> {
    let page = orders::table
        .filter(orders::customer_id.eq(customer_id))
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(Order::as_select())
        .load(conn)
        .await?;
    let total = orders::table
        .filter(orders::customer_id.eq(customer_id))
        .count()
        .get_result(conn)
        .await?;
    Ok((page, total))
}

/// An order that expired, with what the customer was told.
#[derive(Debug, Clone)]
pub struct Expired {
    /// The order after expiry.
    pub order: Order,
    /// `NO_ONLINE_TRANSPORTERS`, `NO_TRANSPORTER_ACCEPTANCE` or `PARTIAL_FILL_TIMEOUT`.
    pub reason_code: &'static str,
    /// Trucks that expired unfilled.
    pub trucks_expired: usize,
}

/// Why an order's window ended without filling it.
pub fn expiry_reason(order: &Order) -> &'static str {
    EndReason::of_expiry(order.trucks_filled, order.notified_transporters).as_str()
}

/// Expires order `id` if it is still searching and its window has ended:
/// the one expiry function timers, the sweeper and the cleanup job share.
/// A partly filled order continues as `fully_filled` with `total_trucks`
/// reduced to what was filled; its unfilled trucks expire. The caller
/// writes the event. `None` when someone else got there first.
pub async fn expire(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Expired>> {
    let current: Option<Order> = orders::table
        .find(id)
        .filter(orders::status.eq_any(names(&SEARCHING)))
        .filter(orders::expires_at.le(now))
        .select(Order::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(current) = current else {
        return Ok(None);
    };
    let reason = expiry_reason(&current);
    let partly_filled = current.trucks_filled > 0;
    let next = if partly_filled {
        OrderStatus::FullyFilled
    } else {
        OrderStatus::Expired
    };
    let order: Order = diesel::update(orders::table.find(id))
        .set((
            orders::status.eq(next.as_str()),
            orders::total_trucks.eq(if partly_filled {
                current.trucks_filled
            } else {
                current.total_trucks
            }),
            orders::reason_code.eq(reason),
            orders::dispatch_state.eq(DispatchState::Finished.as_str()),
            orders::expired_at.eq(now),
            orders::updated_at.eq(now),
            orders::version.eq(orders::version + 1),
        ))
        .returning(Order::as_returning())
        .get_result(conn)
        .await?;
    end_holds(conn, id, HoldStatus::Expired, now).await?;
    crate::dispatch::unschedule(conn, id).await?;
    let trucks_expired = diesel::update(
        truck_requests::table
            .filter(truck_requests::order_id.eq(id))
            .filter(truck_requests::status.eq_any(names(&weelo_orders::status::OPEN_TRUCKS))),
    )
    .set((
        truck_requests::status.eq(TruckStatus::Expired.as_str()),
        truck_requests::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    // A partly filled order goes on with what it has: already on the road,
    // or already done.
    let order = if partly_filled {
        crate::trips::catch_up(conn, id, now)
            .await?
            .unwrap_or(order)
    } else {
        order
    };
    Ok(Some(Expired {
        order,
        reason_code: reason,
        trucks_expired,
    }))
}

/// Expires up to `limit` searching orders whose window has ended, skipping
/// rows another instance is expiring right now (`SKIP LOCKED`). Run inside a
/// transaction.
pub async fn expire_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Expired>> {
    let due: Vec<Uuid> = orders::table
        .filter(orders::status.eq_any(names(&SEARCHING)))
        .filter(orders::expires_at.le(now))
        .order(orders::expires_at.asc())
        .limit(limit)
        .select(orders::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    let mut expired = Vec::with_capacity(due.len());
    for id in due {
        if let Some(done) = expire(conn, id, now).await? {
            expired.push(done);
        }
    }
    Ok(expired)
}

/// Expires the customer's searching order if its window has ended (called
/// before a create, so a stale order never blocks a new one).
pub async fn expire_customer_due(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Expired>> {
    match searching_any(conn, customer_id).await? {
        Some(order) if order.expires_at <= now => expire(conn, order.id, now).await,
        _ => Ok(None),
    }
}

/// The outcome of a cancel.
#[derive(Debug)]
pub enum Cancel {
    /// Cancelled now.
    Cancelled {
        /// The order after.
        order: Box<Order>,
        /// Trucks cancelled.
        trucks_cancelled: usize,
        /// Live assignments cancelled (their drivers get `trip_cancelled`).
        assignments_cancelled: Vec<crate::rows::Assignment>,
    },
    /// Already cancelled or expired: nothing to do (a retry).
    AlreadyFinal(Box<Order>),
    /// A truck is in transit or the order is done: refused.
    Blocked(Box<Order>),
    /// No such order of this customer.
    NotFound,
}

/// Whether a truck of order `id` is past loading (partly filled orders
/// included: their status alone does not say so).
pub async fn has_a_truck_on_the_road(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    use crate::schema::assignments;
    let on_the_road = names(&ON_THE_ROAD);
    diesel::select(diesel::dsl::exists(
        assignments::table
            .filter(assignments::order_id.eq(id))
            .filter(assignments::status.eq_any(on_the_road)),
    ))
    .get_result(conn)
    .await
}

/// Cancels the customer's order `id` with its trucks and writes the
/// `order_cancelled` event, in the caller's transaction.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    id: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Cancel> {
    let current: Option<Order> = orders::table
        .filter(orders::id.eq(id))
        .filter(orders::customer_id.eq(customer_id))
        .select(Order::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(current) = current else {
        return Ok(Cancel::NotFound);
    };
    let status = current.status();
    if matches!(status, OrderStatus::Cancelled | OrderStatus::Expired) {
        return Ok(Cancel::AlreadyFinal(Box::new(current)));
    }
    if !status.is_cancellable() || has_a_truck_on_the_road(conn, id).await? {
        return Ok(Cancel::Blocked(Box::new(current)));
    }
    let order: Order = diesel::update(orders::table.find(id))
        .set((
            orders::status.eq(OrderStatus::Cancelled.as_str()),
            orders::cancel_reason.eq(reason),
            orders::reason_code.eq(EndReason::CustomerCancelled.as_str()),
            orders::dispatch_state.eq(DispatchState::Finished.as_str()),
            orders::cancelled_at.eq(now),
            orders::updated_at.eq(now),
            orders::version.eq(orders::version + 1),
        ))
        .returning(Order::as_returning())
        .get_result(conn)
        .await?;
    end_holds(conn, id, HoldStatus::Cancelled, now).await?;
    crate::dispatch::unschedule(conn, id).await?;
    let trucks_cancelled = diesel::update(
        truck_requests::table
            .filter(truck_requests::order_id.eq(id))
            .filter(
                truck_requests::status
                    .eq_any(names(&TruckStatus::sources_of(TruckStatus::Cancelled))),
            ),
    )
    .set((
        truck_requests::status.eq(TruckStatus::Cancelled.as_str()),
        truck_requests::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    let assignments_cancelled = crate::assignments::cancel_of_order(conn, id, now).await?;
    Ok(Cancel::Cancelled {
        order: Box::new(order),
        trucks_cancelled,
        assignments_cancelled,
    })
}

/// Order `id` locked `FOR SHARE`: holds of one order go side by side, but
/// a cancel or expiry (which locks it `FOR UPDATE`) waits for them, so a
/// hold never lands on an order that stopped searching.
pub async fn find_shared(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Order>> {
    orders::table
        .find(id)
        .select(Order::as_select())
        .for_share()
        .first(conn)
        .await
        .optional()
}

/// Order `id`, whoever's it is (callers check the right to see it).
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Order>> {
    orders::table
        .find(id)
        .select(Order::as_select())
        .first(conn)
        .await
        .optional()
}

/// Ends the order's active holds with `status` (the order stopped searching).
async fn end_holds(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    to: HoldStatus,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use crate::schema::holds;
    let from = names(&HoldStatus::sources_of(to));
    diesel::update(
        holds::table
            .filter(holds::order_id.eq(order_id))
            .filter(holds::status.eq_any(from)),
    )
    .set((holds::status.eq(to.as_str()), holds::updated_at.eq(now)))
    .execute(conn)
    .await
}
