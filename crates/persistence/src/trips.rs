//! Trips: an accepted assignment moving forward to completion, the order
//! following its trucks (`in_progress`, then `completed` exactly once), the
//! GPS history, and the lookups of the tracking screens. Same lock order as
//! every change of an order: the order row first.

use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_availability::VehicleStatus;
use weelo_orders::AssignmentStatus;
use weelo_orders::OrderStatus;
use weelo_orders::TruckStatus;
pub use weelo_orders::assignment::ON_TRIP;
use weelo_orders::assignment::{LIVE_ASSIGNMENT, MOVING, TripStep, UNANSWERED};

use crate::rows::{Assignment, Order, names};
use crate::schema::{assignments, orders, trip_points, truck_requests, vehicles};

/// Why a trip status update changed nothing.
#[derive(Debug)]
pub enum TripRefused {
    /// No such trip of this driver.
    NotFound,
    /// Backward, skipped, or the trip is over or not accepted.
    InvalidTransition {
        /// Where the trip is.
        current: AssignmentStatus,
    },
}

/// What a trip status update did.
#[derive(Debug)]
pub struct Advanced {
    /// The assignment after.
    pub assignment: Assignment,
    /// The order after.
    pub order: Order,
    /// `false` for an idempotent repeat.
    pub changed: bool,
    /// Whether this update completed the order.
    pub order_completed: bool,
}

/// The trip `trip_id` of `driver_id`.
pub async fn of_driver(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    trip_id: Uuid,
) -> QueryResult<Option<Assignment>> {
    assignments::table
        .filter(assignments::trip_id.eq(trip_id))
        .filter(assignments::driver_id.eq(driver_id))
        .select(Assignment::as_select())
        .first(conn)
        .await
        .optional()
}

/// The trip `trip_id`, whoever's it is (callers check the right to see it).
pub async fn find(conn: &mut AsyncPgConnection, trip_id: Uuid) -> QueryResult<Option<Assignment>> {
    assignments::table
        .filter(assignments::trip_id.eq(trip_id))
        .select(Assignment::as_select())
        .first(conn)
        .await
        .optional()
}

/// Moves the driver's trip to `to` in the caller's transaction: forward
/// only, one step at a time; a repeat changes nothing. The truck, the
/// vehicle and the order follow: on the road the truck is `in_progress`,
/// the vehicle `in_transit` and a filled order `in_progress`; completed, the
/// vehicle is free and the order completes once its last trip ends.
pub async fn advance(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    trip_id: Uuid,
    to: AssignmentStatus,
    now: DateTime<Utc>,
) -> QueryResult<Result<Advanced, TripRefused>> {
    let Some(found) = of_driver(conn, driver_id, trip_id).await? else {
        return Ok(Err(TripRefused::NotFound));
    };
    let Some(order) = crate::rows::lock_order(conn, found.order_id).await? else {
        return Ok(Err(TripRefused::NotFound));
    };
    let current: Assignment = assignments::table
        .find(found.id)
        .select(Assignment::as_select())
        .for_update()
        .first(conn)
        .await?;
    let from = current.status();
    match from.trip_step(to) {
        TripStep::Same => {
            return Ok(Ok(Advanced {
                assignment: current,
                order,
                changed: false,
                order_completed: false,
            }));
        }
        TripStep::Refused => {
            return Ok(Err(TripRefused::InvalidTransition { current: from }));
        }
        TripStep::Forward => {}
    }
    let moving = matches!(
        to,
        AssignmentStatus::InTransit | AssignmentStatus::ArrivedAtDrop | AssignmentStatus::Completed
    );
    let done = to == AssignmentStatus::Completed;
    let assignment: Assignment = diesel::update(assignments::table.find(current.id))
        .set((
            assignments::status.eq(to.as_str()),
            assignments::trip_started_at.eq(if to == AssignmentStatus::InTransit {
                Some(now)
            } else {
                current.trip_started_at
            }),
            assignments::ended_at.eq(if done { Some(now) } else { None }),
            assignments::updated_at.eq(now),
        ))
        .returning(Assignment::as_returning())
        .get_result(conn)
        .await?;
    if to == AssignmentStatus::InTransit {
        diesel::update(truck_requests::table.find(assignment.truck_request_id))
            .set((
                truck_requests::status.eq(TruckStatus::InProgress.as_str()),
                truck_requests::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        diesel::update(vehicles::table.find(assignment.vehicle_id))
            .set((
                vehicles::status.eq(VehicleStatus::InTransit.as_str()),
                vehicles::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    if done {
        diesel::update(truck_requests::table.find(assignment.truck_request_id))
            .set((
                truck_requests::status.eq(TruckStatus::Completed.as_str()),
                truck_requests::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        diesel::update(
            vehicles::table
                .find(assignment.vehicle_id)
                .filter(vehicles::current_trip_id.eq(assignment.trip_id)),
        )
        .set((
            vehicles::status.eq(VehicleStatus::Available.as_str()),
            vehicles::current_trip_id.eq(None::<Uuid>),
            vehicles::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    }
    let mut order = order;
    if moving && let Some(started) = start(conn, order.id, now).await? {
        order = started;
    }
    let mut order_completed = false;
    if done && let Some(completed) = complete_if_done(conn, order.id, now).await? {
        order = completed;
        order_completed = true;
    }
    Ok(Ok(Advanced {
        assignment,
        order,
        changed: true,
        order_completed,
    }))
}

/// A filled order whose first truck is on the road becomes `in_progress`.
async fn start(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Order>> {
    diesel::update(
        orders::table.find(order_id).filter(
            orders::status.eq_any(names(&OrderStatus::sources_of(OrderStatus::InProgress))),
        ),
    )
    .set((
        orders::status.eq(OrderStatus::InProgress.as_str()),
        orders::updated_at.eq(now),
        orders::version.eq(orders::version + 1),
    ))
    .returning(Order::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Completes order `order_id` if it no longer searches, no assignment of it
/// is live and at least one trip completed: a compare-and-set, so however
/// many trips end at once the order completes once. `None` otherwise.
pub async fn complete_if_done(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Order>> {
    let of_order = || assignments::table.filter(assignments::order_id.eq(order_id));
    diesel::update(
        orders::table
            .find(order_id)
            .filter(orders::status.eq_any(names(&OrderStatus::sources_of(OrderStatus::Completed))))
            .filter(not(exists(
                of_order().filter(assignments::status.eq_any(names(&LIVE_ASSIGNMENT))),
            )))
            .filter(exists(of_order().filter(
                assignments::status.eq(AssignmentStatus::Completed.as_str()),
            ))),
    )
    .set((
        orders::status.eq(OrderStatus::Completed.as_str()),
        orders::completed_at.eq(now),
        orders::updated_at.eq(now),
        orders::version.eq(orders::version + 1),
    ))
    .returning(Order::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// After a search window ends on a partly filled order: on the road already
/// it is `in_progress`, every trip over it is `completed`.
pub async fn catch_up(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Order>> {
    if let Some(done) = complete_if_done(conn, order_id, now).await? {
        return Ok(Some(done));
    }
    let moving: bool = diesel::select(exists(
        assignments::table
            .filter(assignments::order_id.eq(order_id))
            .filter(assignments::status.eq_any(names(&MOVING))),
    ))
    .get_result(conn)
    .await?;
    if moving {
        start(conn, order_id, now).await
    } else {
        Ok(None)
    }
}

/// One GPS fix to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPoint {
    /// The trip.
    pub trip_id: Uuid,
    /// When the phone took it.
    pub recorded_at: DateTime<Utc>,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Metres per second.
    pub speed: Option<f64>,
    /// Degrees from north.
    pub bearing: Option<f64>,
    /// Metres.
    pub accuracy: Option<f64>,
}

/// Stores fixes in one statement; a fix already stored (same trip and
/// time) is skipped. Returns how many were new.
pub async fn insert_points(
    conn: &mut AsyncPgConnection,
    points: &[NewPoint],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    if points.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = points
        .iter()
        .map(|p| {
            (
                trip_points::trip_id.eq(p.trip_id),
                trip_points::recorded_at.eq(p.recorded_at),
                trip_points::latitude.eq(p.latitude),
                trip_points::longitude.eq(p.longitude),
                trip_points::speed.eq(p.speed),
                trip_points::bearing.eq(p.bearing),
                trip_points::accuracy.eq(p.accuracy),
                trip_points::received_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(trip_points::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

/// The latest stored fix of a trip.
pub async fn last_point_at(
    conn: &mut AsyncPgConnection,
    trip_id: Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    trip_points::table
        .filter(trip_points::trip_id.eq(trip_id))
        .select(diesel::dsl::max(trip_points::recorded_at))
        .first(conn)
        .await
}

/// The driver's accepted trip that has not ended (at most one).
pub async fn active_of_driver(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
) -> QueryResult<Option<Assignment>> {
    assignments::table
        .filter(assignments::driver_id.eq(driver_id))
        .filter(assignments::status.eq_any(names(&ON_TRIP)))
        .select(Assignment::as_select())
        .first(conn)
        .await
        .optional()
}

/// The transporter's accepted trips that have not ended.
pub async fn active_of_transporter(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .filter(assignments::transporter_id.eq(transporter_id))
        .filter(assignments::status.eq_any(names(&ON_TRIP)))
        .order(assignments::assigned_at.desc())
        .select(Assignment::as_select())
        .load(conn)
        .await
}

/// The order's assignments that were not declined or timed out.
pub async fn of_order(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .filter(assignments::order_id.eq(order_id))
        .filter(assignments::status.ne_all(names(&UNANSWERED)))
        .order(assignments::assigned_at.asc())
        .select(Assignment::as_select())
        .load(conn)
        .await
}

/// A page of the trips on the road not yet reported silent, by id after
/// `after` (a keyset: the watchdog pages through every one of them).
pub async fn moving_unreported(
    conn: &mut AsyncPgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Assignment>> {
    let mut query = assignments::table
        .filter(assignments::status.eq_any(names(&MOVING)))
        .filter(assignments::silence_reported_at.is_null())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(assignments::id.gt(after));
    }
    query
        .order(assignments::id.asc())
        .limit(limit)
        .select(Assignment::as_select())
        .load(conn)
        .await
}

/// Marks a trip's silence reported; `false` when another instance did.
pub async fn mark_silent(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        assignments::table
            .find(id)
            .filter(assignments::silence_reported_at.is_null()),
    )
    .set(assignments::silence_reported_at.eq(now))
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}

/// Marks that `driver_approaching` went out for assignment `id`; `false`
/// when it already had (another instance, an earlier fix).
pub async fn mark_approaching(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        assignments::table
            .find(id)
            .filter(assignments::approaching_sent_at.is_null()),
    )
    .set(assignments::approaching_sent_at.eq(now))
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}

/// The trip is heard from again: a later silence is reported anew.
pub async fn clear_silent(conn: &mut AsyncPgConnection, trip_id: Uuid) -> QueryResult<()> {
    diesel::update(
        assignments::table
            .filter(assignments::trip_id.eq(trip_id))
            .filter(assignments::silence_reported_at.is_not_null()),
    )
    .set(assignments::silence_reported_at.eq(None::<DateTime<Utc>>))
    .execute(conn)
    .await
    .map(drop)
}
