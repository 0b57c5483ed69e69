//! Assignments: a hold confirmed with a vehicle and a driver per truck, the
//! driver's answer, the answer deadline, and the end of an order's
//! assignments when it is cancelled.
//!
//! Lock order, the same on every path that changes an order, so two paths
//! never wait on each other in a cycle: the order row first, then its holds,
//! vehicles, drivers, trucks and assignments. Every status change is a
//! compare-and-set; the partial unique indexes of the migration are the
//! last word on "one live assignment per driver, vehicle and truck".

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_availability::VehicleStatus;
use weelo_orders::AssignmentStatus;
use weelo_orders::Role;
use weelo_orders::TruckStatus;
use weelo_orders::assignment::LIVE_ASSIGNMENT;
use weelo_orders::filling::EndReason;
use weelo_orders::pairing::{
    DriverFacts, HoldFacts, HoldProblem, PairProblem, VehicleFacts, check_hold, check_pair,
};
use weelo_orders::{DispatchState, HoldStatus, filling};

pub use crate::rows::Assignment;
use crate::rows::{Hold, Order, TruckRequest, names};
use crate::schema::{assignments, holds, orders, truck_requests, users, vehicles};
use crate::vehicles::Vehicle;

/// One truck's vehicle and driver, as the transporter names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// The vehicle.
    pub vehicle_id: Uuid,
    /// The driver.
    pub driver_id: Uuid,
}

/// A pair that cannot be assigned, and why (`VEHICLE_NOT_AVAILABLE`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedPair {
    /// The vehicle named.
    pub vehicle_id: Uuid,
    /// The driver named.
    pub driver_id: Uuid,
    /// Why it cannot.
    pub reason: PairProblem,
}

/// Why a confirm changed nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfirmRefused {
    /// No hold with this id is the transporter's.
    HoldNotFound,
    /// The hold was confirmed, released, expired or cancelled already.
    HoldNotActive {
        /// Its status now.
        status: HoldStatus,
    },
    /// The hold's time is up (the sweeper is about to expire it).
    HoldExpired,
    /// The order no longer takes trucks.
    OrderClosed,
    /// The number of pairs is not the number of held trucks.
    CountMismatch {
        /// Trucks held.
        held: i32,
    },
    /// Some pairs cannot be assigned; nothing was.
    Failed(Vec<FailedPair>),
}

/// What a confirm did.
#[derive(Debug)]
pub struct Confirmed {
    /// The order after its counters moved.
    pub order: Order,
    /// The hold, now `confirmed`.
    pub hold: Hold,
    /// The new assignments, in truck order.
    pub assignments: Vec<Assignment>,
    /// The trucks, now `assigned`.
    pub trucks: Vec<TruckRequest>,
}

/// The order row, locked: the first lock of every change of an order.
async fn lock_order(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Order>> {
    orders::table
        .find(id)
        .select(Order::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Why each pair cannot be assigned, checked against locked vehicle and
/// driver rows; empty when all can.
async fn check_pairs(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    vehicle_key: &str,
    pairs: &[Pair],
) -> QueryResult<(Vec<FailedPair>, Vec<Vehicle>)> {
    let vehicle_ids: Vec<Uuid> = pairs.iter().map(|p| p.vehicle_id).collect();
    let driver_ids: Vec<Uuid> = pairs.iter().map(|p| p.driver_id).collect();
    // Sorted, so two confirms lock shared rows in the same order.
    let fleet: Vec<Vehicle> = vehicles::table
        .filter(vehicles::id.eq_any(&vehicle_ids))
        .order(vehicles::id.asc())
        .select(Vehicle::as_select())
        .for_update()
        .load(conn)
        .await?;
    let drivers: Vec<(Uuid, Option<Uuid>, bool, bool)> = users::table
        .filter(users::id.eq_any(&driver_ids))
        .filter(users::role.eq(Role::Driver.as_str()))
        .order(users::id.asc())
        .select((
            users::id,
            users::transporter_id,
            users::is_active,
            users::is_available,
        ))
        .for_update()
        .load(conn)
        .await?;
    let busy: Vec<Uuid> = assignments::table
        .filter(assignments::driver_id.eq_any(&driver_ids))
        .filter(assignments::status.eq_any(names(&LIVE_ASSIGNMENT)))
        .select(assignments::driver_id)
        .load(conn)
        .await?;
    let mut failed = Vec::new();
    for pair in pairs {
        let vehicle = fleet.iter().find(|v| v.id == pair.vehicle_id);
        let driver = drivers.iter().find(|d| d.0 == pair.driver_id);
        let reason = check_pair(
            vehicle.map(|v| VehicleFacts {
                in_fleet: v.transporter_id == transporter_id && v.deleted_at.is_none(),
                of_held_type: v.vehicle_key == vehicle_key,
                free: v.status == VehicleStatus::Available,
            }),
            driver.map(|d| DriverFacts {
                in_fleet: d.1 == Some(transporter_id),
                active: d.2,
                online: d.3,
                busy: busy.contains(&d.0),
            }),
        );
        if let Some(reason) = reason {
            failed.push(FailedPair {
                vehicle_id: pair.vehicle_id,
                driver_id: pair.driver_id,
                reason,
            });
        }
    }
    Ok((failed, fleet))
}

/// Confirms the transporter's hold with one pair per held truck, all or
/// nothing, in the caller's transaction: assignments `pending` until
/// `driver_deadline`, trucks `assigned`, vehicles `on_hold`, the hold
/// `confirmed`, the order's `trucks_filled` and status moved. The caller
/// appends the events in the same transaction.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    hold_id: Uuid,
    pairs: &[Pair],
    driver_deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Result<Confirmed, ConfirmRefused>> {
    let order_id: Option<Uuid> = holds::table
        .find(hold_id)
        .filter(holds::transporter_id.eq(transporter_id))
        .select(holds::order_id)
        .first(conn)
        .await
        .optional()?;
    let Some(order_id) = order_id else {
        return Ok(Err(ConfirmRefused::HoldNotFound));
    };
    let Some(order) = lock_order(conn, order_id).await? else {
        return Ok(Err(ConfirmRefused::HoldNotFound));
    };
    let hold: Hold = holds::table
        .find(hold_id)
        .select(Hold::as_select())
        .for_update()
        .first(conn)
        .await?;
    let facts = HoldFacts {
        status: hold.status,
        expires_at: hold.expires_at,
        quantity: hold.quantity,
        order_status: order.status,
        order_expires_at: order.expires_at,
    };
    if let Err(problem) = check_hold(&facts, pairs.len(), &now) {
        return Ok(Err(match problem {
            HoldProblem::NotActive(status) => ConfirmRefused::HoldNotActive { status },
            HoldProblem::Expired => ConfirmRefused::HoldExpired,
            HoldProblem::OrderClosed => ConfirmRefused::OrderClosed,
            HoldProblem::CountMismatch { held } => ConfirmRefused::CountMismatch { held },
        }));
    }
    let (failed, fleet) = check_pairs(conn, transporter_id, &hold.vehicle_key, pairs).await?;
    if !failed.is_empty() {
        return Ok(Err(ConfirmRefused::Failed(failed)));
    }
    let held: Vec<TruckRequest> = truck_requests::table
        .filter(truck_requests::hold_id.eq(hold_id))
        .filter(truck_requests::status.eq(TruckStatus::Held.as_str()))
        .order(truck_requests::request_number.asc())
        .select(TruckRequest::as_select())
        .for_update()
        .load(conn)
        .await?;
    if held.len() != pairs.len() {
        return Ok(Err(ConfirmRefused::OrderClosed));
    }
    let mut made = Vec::with_capacity(pairs.len());
    let mut trucks = Vec::with_capacity(pairs.len());
    for (truck, pair) in held.iter().zip(pairs) {
        let number = fleet
            .iter()
            .find(|v| v.id == pair.vehicle_id)
            .map_or_else(String::new, |v| v.vehicle_number.clone());
        let assignment: Assignment = diesel::insert_into(assignments::table)
            .values((
                assignments::order_id.eq(order_id),
                assignments::truck_request_id.eq(truck.id),
                assignments::hold_id.eq(hold_id),
                assignments::transporter_id.eq(transporter_id),
                assignments::vehicle_id.eq(pair.vehicle_id),
                assignments::driver_id.eq(pair.driver_id),
                assignments::vehicle_number.eq(number),
                assignments::driver_deadline.eq(driver_deadline),
                assignments::assigned_at.eq(now),
                assignments::updated_at.eq(now),
            ))
            .returning(Assignment::as_returning())
            .get_result(conn)
            .await?;
        trucks.push(
            diesel::update(truck_requests::table.find(truck.id))
                .set((
                    truck_requests::status.eq(TruckStatus::Assigned.as_str()),
                    truck_requests::vehicle_id.eq(pair.vehicle_id),
                    truck_requests::driver_id.eq(pair.driver_id),
                    truck_requests::assigned_at.eq(now),
                    truck_requests::updated_at.eq(now),
                ))
                .returning(TruckRequest::as_returning())
                .get_result(conn)
                .await?,
        );
        diesel::update(vehicles::table.find(pair.vehicle_id))
            .set((
                vehicles::status.eq(VehicleStatus::OnHold.as_str()),
                vehicles::current_trip_id.eq(assignment.trip_id),
                vehicles::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        made.push(assignment);
    }
    let hold: Hold = diesel::update(holds::table.find(hold_id))
        .set((
            holds::status.eq(HoldStatus::Confirmed.as_str()),
            holds::updated_at.eq(now),
        ))
        .returning(Hold::as_returning())
        .get_result(conn)
        .await?;
    let filling = filling::after_confirm(
        order.dispatch_state,
        order.trucks_filled,
        order.total_trucks,
        hold.quantity,
    );
    let order: Order = diesel::update(orders::table.find(order_id))
        .set((
            orders::trucks_filled.eq(filling.trucks_filled),
            orders::status.eq(filling.status.as_str()),
            orders::dispatch_state.eq(filling.dispatch.as_str()),
            orders::updated_at.eq(now),
            orders::version.eq(orders::version + 1),
        ))
        .returning(Order::as_returning())
        .get_result(conn)
        .await?;
    if filling.dispatch == DispatchState::Finished {
        crate::dispatch::unschedule(conn, order_id).await?;
    }
    Ok(Ok(Confirmed {
        order,
        hold,
        assignments: made,
        trucks,
    }))
}

/// Why a driver's answer changed nothing.
#[derive(Debug)]
pub enum AnswerRefused {
    /// No such assignment of this driver.
    NotFound,
    /// It is no longer waiting for an answer.
    NotPending(Box<Assignment>),
    /// The answer came after the deadline.
    TooLate,
}

async fn of_driver_one(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Assignment>> {
    assignments::table
        .find(id)
        .filter(assignments::driver_id.eq(driver_id))
        .select(Assignment::as_select())
        .first(conn)
        .await
        .optional()
}

/// The driver accepts pending assignment `id` before its deadline.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Result<Assignment, AnswerRefused>> {
    let accepted: Option<Assignment> = diesel::update(
        assignments::table
            .find(id)
            .filter(assignments::driver_id.eq(driver_id))
            .filter(assignments::status.eq(AssignmentStatus::Pending.as_str()))
            .filter(assignments::driver_deadline.gt(now)),
    )
    .set((
        assignments::status.eq(AssignmentStatus::DriverAccepted.as_str()),
        assignments::driver_accepted_at.eq(now),
        assignments::updated_at.eq(now),
    ))
    .returning(Assignment::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    if let Some(accepted) = accepted {
        return Ok(Ok(accepted));
    }
    Ok(Err(match of_driver_one(conn, driver_id, id).await? {
        None => AnswerRefused::NotFound,
        Some(found) if found.status() == AssignmentStatus::Pending => AnswerRefused::TooLate,
        Some(found) => AnswerRefused::NotPending(Box::new(found)),
    }))
}

/// How a pending assignment ends without an acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered<'a> {
    /// The driver declined, with a reason.
    Declined {
        /// The driver (it must be theirs).
        driver_id: Uuid,
        /// Their reason.
        reason: &'a str,
    },
    /// The deadline passed.
    TimedOut,
}

/// What ending a pending assignment did.
#[derive(Debug)]
pub struct Ended {
    /// The assignment after.
    pub assignment: Assignment,
    /// The order after.
    pub order: Order,
    /// Whether its truck searches again (otherwise the window was over and
    /// the truck expired).
    pub reopened: bool,
}

/// Ends pending assignment `id` (decline or timeout) in the caller's
/// transaction: frees the vehicle, reopens the truck while the order can
/// still search (or expires it once the window is over) and moves the
/// order's counters and status. `Err` when it was not pending any more.
pub async fn end_unanswered(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    how: Unanswered<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Result<Ended, AnswerRefused>> {
    let mut lookup = assignments::table.find(id).into_boxed();
    if let Unanswered::Declined { driver_id, .. } = how {
        lookup = lookup.filter(assignments::driver_id.eq(driver_id));
    }
    let found: Option<Assignment> = lookup
        .select(Assignment::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(found) = found else {
        return Ok(Err(AnswerRefused::NotFound));
    };
    let Some(order) = lock_order(conn, found.order_id).await? else {
        return Ok(Err(AnswerRefused::NotFound));
    };
    let (status, reason) = match how {
        Unanswered::Declined { reason, .. } => (AssignmentStatus::DriverDeclined, Some(reason)),
        Unanswered::TimedOut => (AssignmentStatus::TimedOut, None),
    };
    let mut target = diesel::update(assignments::table)
        .filter(assignments::id.eq(id))
        .filter(assignments::status.eq(AssignmentStatus::Pending.as_str()))
        .into_boxed();
    if how == Unanswered::TimedOut {
        target = target.filter(assignments::driver_deadline.le(now));
    }
    let ended: Option<Assignment> = target
        .set((
            assignments::status.eq(status.as_str()),
            assignments::decline_reason.eq(reason),
            assignments::declined_at.eq(now),
            assignments::ended_at.eq(now),
            assignments::updated_at.eq(now),
        ))
        .returning(Assignment::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    let Some(assignment) = ended else {
        return Ok(Err(if found.status() == AssignmentStatus::Pending {
            AnswerRefused::TooLate
        } else {
            AnswerRefused::NotPending(Box::new(found))
        }));
    };
    free_vehicles(conn, &[assignment.trip_id], now).await?;
    let (mut order, reopened) =
        give_back_truck(conn, &order, assignment.truck_request_id, now).await?;
    if !reopened && let Some(done) = crate::trips::complete_if_done(conn, order.id, now).await? {
        // It was the last open end of an order whose other trips are done.
        order = done;
    }
    Ok(Ok(Ended {
        assignment,
        order,
        reopened,
    }))
}

/// Vehicles still on these trips become available again.
async fn free_vehicles(
    conn: &mut AsyncPgConnection,
    trip_ids: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(vehicles::table.filter(vehicles::current_trip_id.eq_any(trip_ids)))
        .set((
            vehicles::status.eq(VehicleStatus::Available.as_str()),
            vehicles::current_trip_id.eq(None::<Uuid>),
            vehicles::updated_at.eq(now),
        ))
        .execute(conn)
        .await
}

/// The truck of an unanswered assignment: searching again while the order's
/// window is open (and the customer has no other searching order, which
/// the one-searching-order index would refuse), expired otherwise.
async fn give_back_truck(
    conn: &mut AsyncPgConnection,
    order: &Order,
    truck_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<(Order, bool)> {
    let window_open = order.expires_at > now;
    let another_searches = window_open
        && !order.status().is_searching()
        && diesel::select(diesel::dsl::exists(
            orders::table
                .filter(orders::customer_id.eq(order.customer_id))
                .filter(orders::id.ne(order.id))
                .filter(orders::status.eq_any(crate::rows::searching_names())),
        ))
        .get_result::<bool>(conn)
        .await?;
    let given = filling::after_giving_back(
        order.status(),
        order.dispatch_state,
        order.trucks_filled,
        order.total_trucks,
        window_open,
        another_searches,
    );
    let reopen = given.reopened;
    let truck = diesel::update(truck_requests::table.find(truck_id));
    if reopen {
        truck
            .set((
                truck_requests::status.eq(TruckStatus::Searching.as_str()),
                truck_requests::hold_id.eq(None::<Uuid>),
                truck_requests::transporter_id.eq(None::<Uuid>),
                truck_requests::vehicle_id.eq(None::<Uuid>),
                truck_requests::driver_id.eq(None::<Uuid>),
                truck_requests::assigned_at.eq(None::<DateTime<Utc>>),
                truck_requests::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    } else {
        truck
            .set((
                truck_requests::status.eq(TruckStatus::Expired.as_str()),
                truck_requests::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    let after = given.filling;
    let order: Order = diesel::update(orders::table.find(order.id))
        .set((
            orders::trucks_filled.eq(after.trucks_filled),
            orders::total_trucks.eq(after.total_trucks),
            orders::status.eq(after.status.as_str()),
            orders::dispatch_state.eq(after.dispatch.as_str()),
            orders::reason_code.eq(if given.order_expired {
                Some(EndReason::NoDriverAcceptance.as_str())
            } else {
                order.reason_code.as_deref()
            }),
            orders::expired_at.eq(if given.order_expired {
                Some(now)
            } else {
                order.expired_at
            }),
            orders::updated_at.eq(now),
            orders::version.eq(orders::version + 1),
        ))
        .returning(Order::as_returning())
        .get_result(conn)
        .await?;
    if reopen {
        // Dispatch the truck again now, to transporters not told before;
        // those who declined the order may take the reopened truck.
        crate::dispatch::schedule(conn, order.id, Some(now)).await?;
        crate::dispatch::forget_declines(conn, order.id).await?;
    }
    Ok((order, reopen))
}

/// Pending assignments past their deadline, oldest first (the sweeper ends
/// each with [`end_unanswered`], whose compare-and-set makes it once).
pub async fn unanswered_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    assignments::table
        .filter(assignments::status.eq(AssignmentStatus::Pending.as_str()))
        .filter(assignments::driver_deadline.le(now))
        .order(assignments::driver_deadline.asc())
        .limit(limit)
        .select(assignments::id)
        .load(conn)
        .await
}

/// Cancels the order's live assignments (the order was cancelled) and frees
/// their vehicles, in the caller's transaction, which holds the order row.
pub async fn cancel_of_order(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Assignment>> {
    let cancelled: Vec<Assignment> = diesel::update(
        assignments::table
            .filter(assignments::order_id.eq(order_id))
            .filter(
                assignments::status.eq_any(names(&AssignmentStatus::sources_of(
                    AssignmentStatus::Cancelled,
                ))),
            ),
    )
    .set((
        assignments::status.eq(AssignmentStatus::Cancelled.as_str()),
        assignments::ended_at.eq(now),
        assignments::updated_at.eq(now),
    ))
    .returning(Assignment::as_returning())
    .get_results(conn)
    .await?;
    let trips: Vec<Uuid> = cancelled.iter().map(|a| a.trip_id).collect();
    if !trips.is_empty() {
        free_vehicles(conn, &trips, now).await?;
    }
    Ok(cancelled)
}

/// Assignment `id`, whoever's it is (callers check the right to see it).
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Assignment>> {
    assignments::table
        .find(id)
        .select(Assignment::as_select())
        .first(conn)
        .await
        .optional()
}

/// A page of the driver's assignments, newest first, optionally of one
/// status, with the total count.
pub async fn of_driver(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Assignment>, i64)> {
    of_whom(conn, Whose::Driver(driver_id), status, limit, offset).await
}

/// Whose assignments a history lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// One driver's.
    Driver(Uuid),
    /// Every driver's of one transporter's fleet.
    Fleet(Uuid),
}

/// [`of_driver`] for one driver or a whole fleet, newest first, with the
/// total.
pub async fn of_whom(
    conn: &mut AsyncPgConnection,
    whose: Whose,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Assignment>, i64)> {
    let filtered = || {
        let mut query = assignments::table.into_boxed();
        query = match whose {
            Whose::Driver(id) => query.filter(assignments::driver_id.eq(id)),
            Whose::Fleet(id) => query.filter(assignments::transporter_id.eq(id)),
        };
        if let Some(status) = status {
            query = query.filter(assignments::status.eq(status.to_owned()));
        }
        query
    };
    let page = filtered()
        .order(assignments::assigned_at.desc())
        .limit(limit)
        .offset(offset)
        .select(Assignment::as_select())
        .load(conn)
        .await?;
    let total = filtered().count().get_result(conn).await?;
    Ok((page, total))
}

/// The driver's pending assignments still within their deadline (re-sent
/// as `trip_assigned` when the driver's socket connects).
pub async fn pending_of_driver(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .filter(assignments::driver_id.eq(driver_id))
        .filter(assignments::status.eq(AssignmentStatus::Pending.as_str()))
        .filter(assignments::driver_deadline.gt(now))
        .select(Assignment::as_select())
        .load(conn)
        .await
}
