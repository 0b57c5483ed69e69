//! Assignments: confirming a hold with a vehicle and a driver per
//! truck, the drivers' answers, the answer deadline (a precise timer on the
//! instance that made the assignment, and the sweeper on every instance),
//! and what each change tells whom. Each change is one transaction with
//! its outbox events and, when keyed, its stored answer.

pub mod error;
pub mod queries;
pub mod view;

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_orders::AssignmentStatus;
use weelo_orders::OrderStatus;
use weelo_persistence::assignments::{self, Assignment, Confirmed, Ended, Pair, Unanswered};
use weelo_persistence::orders::Order;
use weelo_persistence::users::User;
use weelo_persistence::{PersistenceError, dispatch, orders, users};

pub use error::AssignmentError;

use crate::events::{
    self, AssignmentStatusChanged, BookingCompleted, BookingFullyFilled, BroadcastDismissed,
    BroadcastStateChanged, DriverAccepted, DriverDeclined, DriverTimeout, Event, OrderExpired,
    Outgoing, Room, TripAssigned, TrucksRemaining,
};
use crate::idempotent::{self, Change, Keyed, Tx};
use crate::{Dispatch, DispatchError};

/// What a keyed change answers: its data, or "replay the stored answer".
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The change was made now.
    Done(Value),
    /// An earlier request with the same key made it.
    Replay,
}

/// Confirms `hold_id` with `pairs` (one per held truck), all or nothing.
pub async fn confirm(
    state: &Dispatch,
    transporter: Uuid,
    hold_id: Uuid,
    pairs: &[Pair],
    keyed: Option<&Keyed>,
) -> Result<Answer, DispatchError> {
    let drivers: Vec<Uuid> = pairs.iter().map(|p| p.driver_id).collect();
    crate::documents::kyc::check_drivers(state, &drivers).await?;
    let now = state.clock.now();
    let answer_secs = state.orders.driver_answer_secs;
    let deadline = now + Duration::seconds(answer_secs);
    let result = idempotent::run(state, keyed, transporter, async |conn| {
        let confirmed = assignments::confirm(conn, transporter, hold_id, pairs, deadline, now)
            .await?
            .map_err(|refused| Tx::Refused(refused.into()))?;
        Ok(record_confirm(conn, confirmed, answer_secs, now).await?)
    })
    .await;
    settle_confirm(state, transporter, result).await
}

/// Holds truck `truck_id` and confirms it with `pair` in one transaction
/// (`POST orders/accept`).
pub async fn accept_truck(
    state: &Dispatch,
    transporter: Uuid,
    truck_id: Uuid,
    pair: Pair,
    keyed: Option<&Keyed>,
) -> Result<Answer, DispatchError> {
    crate::documents::kyc::check_drivers(state, &[pair.driver_id]).await?;
    let now = state.clock.now();
    let answer_secs = state.orders.driver_answer_secs;
    let deadline = now + Duration::seconds(answer_secs);
    let hold_secs = state.orders.hold_secs;
    let result = idempotent::run(state, keyed, transporter, async |conn| {
        let refuse = |e| Tx::Refused(e);
        let truck = orders::trucks_by_ids(conn, &[truck_id])
            .await?
            .pop()
            .ok_or(refuse(AssignmentError::TruckNotFound))?;
        let order = orders::lock(conn, truck.order_id)
            .await?
            .ok_or(refuse(AssignmentError::TruckNotFound))?;
        if !dispatch::was_notified(conn, order.id, transporter).await? {
            return Err(refuse(AssignmentError::NotNotified));
        }
        if !order.status().is_searching() || order.expires_at <= now {
            return Err(refuse(AssignmentError::OrderClosed));
        }
        let until = (now + Duration::seconds(hold_secs)).min(order.expires_at);
        let hold = weelo_persistence::holds::place_truck(conn, transporter, &truck, until, now)
            .await?
            .map_err(|refused| {
                refuse(match refused {
                    weelo_persistence::holds::Refused::AlreadyHolding(_) => {
                        AssignmentError::AlreadyHolding
                    }
                    weelo_persistence::holds::Refused::NotEnough { .. } => {
                        AssignmentError::TruckTaken
                    }
                })
            })?;
        let confirmed = assignments::confirm(conn, transporter, hold.id, &[pair], deadline, now)
            .await?
            .map_err(|refused| Tx::Refused(refused.into()))?;
        Ok(record_confirm(conn, confirmed, answer_secs, now).await?)
    })
    .await;
    settle_confirm(state, transporter, result).await
}

/// A confirm's events and answer, read in its transaction.
async fn record_confirm(
    conn: &mut AsyncPgConnection,
    confirmed: Confirmed,
    answer_secs: i64,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Change<Confirmed>> {
    let customer = users::find(conn, confirmed.order.customer_id).await?;
    let notified = dispatch::notified_of(conn, confirmed.order.id).await?;
    let mut events = confirm_events(&confirmed, customer.as_ref(), &notified, answer_secs, now);
    let held: Vec<(Uuid, Uuid)> = confirmed
        .assignments
        .iter()
        .map(|a| (a.transporter_id, a.vehicle_id))
        .collect();
    events.extend(crate::fleet::vehicles_moved(conn, &held).await?);
    let answer = confirm_answer(&confirmed, now);
    Ok(Change {
        outcome: confirmed,
        answer,
        events,
    })
}

/// The answer of a confirm's transaction, and what follows a commit.
async fn settle_confirm(
    state: &Dispatch,
    transporter: Uuid,
    result: Result<Option<(Confirmed, Value)>, Tx<AssignmentError>>,
) -> Result<Answer, DispatchError> {
    let (confirmed, data) = match result {
        Ok(Some(done)) => done,
        Ok(None) => return Ok(Answer::Replay),
        Err(Tx::Db(error)) => return Err(error::from_race(error)),
        Err(Tx::Unavailable(error)) => return Err(error.into()),
        Err(Tx::Refused(refused)) => return Err(refused.into()),
    };
    after_confirm(state, transporter, &confirmed).await;
    Ok(Answer::Done(data))
}

async fn after_confirm(state: &Dispatch, transporter: Uuid, confirmed: &Confirmed) {
    tracing::info!(
        hold.id = %confirmed.hold.id,
        order.id = %confirmed.order.id,
        transporter.id = %transporter,
        assignments = confirmed.assignments.len(),
        order.trucks_filled = confirmed.order.trucks_filled,
        "hold confirmed"
    );
    for made in &confirmed.assignments {
        schedule_timeout(state, made.id, made.driver_deadline);
    }
    refresh_fleets(state, &[transporter]).await;
    crate::orders::mirror::publish(&state.cache, &confirmed.order).await;
}

fn confirm_answer(confirmed: &Confirmed, now: DateTime<Utc>) -> Value {
    let order = &confirmed.order;
    json!({
        "holdId": confirmed.hold.id,
        "orderId": order.id,
        "assignmentIds": confirmed.assignments.iter().map(|a| a.id).collect::<Vec<_>>(),
        "tripIds": confirmed.assignments.iter().map(|a| a.trip_id).collect::<Vec<_>>(),
        "assignments": confirmed.assignments.iter().map(|a| json!({
            "assignmentId": a.id, "tripId": a.trip_id, "vehicleId": a.vehicle_id,
            "vehicleNumber": a.vehicle_number, "driverId": a.driver_id, "status": a.status,
            "truckRequestId": a.truck_request_id, "driverDeadline": crate::wire::iso(a.driver_deadline),
        })).collect::<Vec<_>>(),
        "trucksFilled": order.trucks_filled,
        "totalTrucks": order.total_trucks,
        "trucksNeeded": order.total_trucks,
        "orderStatus": order.status,
        "holdState": "CONFIRMED",
        "phase": "CONFIRMED",
        "serverTimeMs": now.timestamp_millis(),
    })
}

fn confirm_events(
    confirmed: &Confirmed,
    customer: Option<&User>,
    notified: &[Uuid],
    answer_secs: i64,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let order = &confirmed.order;
    let with_notified = Room::of_order_and(order, notified);
    let mut events: Vec<Outgoing> = confirmed
        .assignments
        .iter()
        .zip(&confirmed.trucks)
        .map(|(a, truck)| {
            let trip = TripAssigned::of(
                a,
                order,
                truck,
                customer,
                answer_secs,
                view::route_points(order),
            );
            Event::TripAssigned(Box::new(trip)).to([Room::Driver(a.driver_id)], order.id)
        })
        .collect();
    events.push(
        Event::TrucksRemaining(TrucksRemaining::of(
            order,
            &confirmed.hold.vehicle_type,
            now,
        ))
        .to(with_notified.clone(), order.id),
    );
    if order.trucks_filled >= order.total_trucks {
        events.push(
            Event::BookingFullyFilled(BookingFullyFilled {
                order_id: order.id,
                booking_id: order.id,
                trucks_filled: order.trucks_filled,
                trucks_needed: order.total_trucks,
                status: order.status,
            })
            .to(with_notified, order.id),
        );
        events.push(
            Event::BroadcastStateChanged(BroadcastStateChanged {
                order_id: order.id,
                status: order.status,
                dispatch_state: order.dispatch_state,
                step: None,
                radius_km: None,
                notified_transporters: None,
                online_candidates: None,
            })
            .to(Room::of_order(order), order.id),
        );
        let others: Vec<Room> = notified
            .iter()
            .filter(|t| **t != confirmed.hold.transporter_id)
            .map(|t| Room::Transporter(*t))
            .collect();
        if !others.is_empty() {
            events.push(
                Event::BroadcastDismissed(BroadcastDismissed {
                    broadcast_id: order.id,
                    order_id: order.id,
                    reason: "fully_filled",
                    message: "All trucks of this order are taken",
                    trucks_filled: order.trucks_filled,
                    trucks_needed: order.total_trucks,
                })
                .to(others, order.id),
            );
        }
    }
    events
}

/// The driver accepts assignment `id`.
pub async fn accept(
    state: &Dispatch,
    driver: Uuid,
    id: Uuid,
    keyed: Option<&Keyed>,
) -> Result<Answer, DispatchError> {
    let now = state.clock.now();
    let result = idempotent::run::<_, AssignmentError, _>(state, keyed, driver, async |conn| {
        let accepted = assignments::accept(conn, driver, id, now)
            .await?
            .map_err(|refused| Tx::Refused(refused.into()))?;
        let order = orders::find(conn, accepted.order_id).await?;
        let mut events = Vec::new();
        if let Some(order) = &order {
            let mut audience = Room::of_order(order);
            let transporter = Room::Transporter(accepted.transporter_id);
            audience.push(transporter);
            let changed = AssignmentStatusChanged::of(&accepted, "The driver accepted the trip");
            events.push(Event::AssignmentStatusChanged(changed).to(audience, order.id));
            let driver_name = users::find(conn, accepted.driver_id)
                .await?
                .and_then(|d| d.name)
                .unwrap_or_else(|| "Driver".to_owned());
            events.push(
                Event::DriverAccepted(DriverAccepted::of(&accepted, driver_name))
                    .to([transporter], order.id),
            );
        }
        let answer = one_view(conn, &accepted, now).await?;
        Ok(Change {
            outcome: (),
            answer,
            events,
        })
    })
    .await?;
    match result {
        Some(((), data)) => {
            tracing::info!(assignment.id = %id, driver.id = %driver, "assignment accepted");
            Ok(Answer::Done(data))
        }
        None => Ok(Answer::Replay),
    }
}

/// The driver declines assignment `id`.
pub async fn decline(
    state: &Dispatch,
    driver: Uuid,
    id: Uuid,
    reason: &str,
    keyed: Option<&Keyed>,
) -> Result<Answer, DispatchError> {
    let now = state.clock.now();
    let how = Unanswered::Declined {
        driver_id: driver,
        reason,
    };
    let result = idempotent::run::<_, AssignmentError, _>(state, keyed, driver, async |conn| {
        let ended = assignments::end_unanswered(conn, id, how, now)
            .await?
            .map_err(|refused| Tx::Refused(refused.into()))?;
        let events = unanswered_events(conn, &ended, now).await?;
        let answer = one_view(conn, &ended.assignment, now).await?;
        Ok(Change {
            outcome: ended,
            answer,
            events,
        })
    })
    .await?;
    let Some((ended, data)) = result else {
        return Ok(Answer::Replay);
    };
    tracing::info!(assignment.id = %id, order.id = %ended.order.id, truck.reopened = ended.reopened, "assignment declined");
    after_unanswered(state, &ended).await;
    Ok(Answer::Done(data))
}

/// Times assignment `id` out if it is still pending past its deadline;
/// `true` when this call did it.
pub async fn time_out(state: &Dispatch, id: Uuid) -> Result<bool, PersistenceError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let ended = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let Ok(ended) =
                assignments::end_unanswered(conn, id, Unanswered::TimedOut, now).await?
            else {
                return Ok(None);
            };
            let events = unanswered_events(conn, &ended, now).await?;
            events::append(conn, &events, now).await?;
            Ok(Some(ended))
        })
        .await?;
    drop(conn);
    let Some(ended) = ended else {
        return Ok(false);
    };
    tracing::info!(assignment.id = %id, order.id = %ended.order.id, truck.reopened = ended.reopened, "assignment timed out");
    state.wake_relay();
    after_unanswered(state, &ended).await;
    Ok(true)
}

/// One sweep of unanswered assignments past their deadline (the backstop
/// of the timers); returns how many this instance timed out.
pub async fn sweep_unanswered(state: &Dispatch) -> Result<usize, PersistenceError> {
    let due = {
        let mut conn = state.conn().await?;
        assignments::unanswered_due(&mut conn, state.clock.now(), state.orders.sweep_batch).await?
    };
    let mut done = 0;
    for id in due {
        if time_out(state, id).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// Arms the precise answer timer of assignment `id`; firing after the
/// driver answered does nothing. Shutdown drops a timer still waiting (the
/// sweeper of any instance times the assignment out instead).
pub fn schedule_timeout(state: &Dispatch, id: Uuid, deadline: DateTime<Utc>) {
    let stopping = state.supervisor.stopping();
    let supervisor = state.supervisor.clone();
    let state = state.clone();
    let wait = (deadline - state.clock.now()).to_std().unwrap_or_default();
    supervisor.spawn(async move {
        tokio::select! {
            () = stopping.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        if let Err(error) = time_out(&state, id).await {
            tracing::warn!(assignment.id = %id, error = %error, "answer timer failed; the sweeper will retry");
        }
    });
}

/// Re-reads the free vehicle keys of these transporters into presence
/// (their vehicles changed status).
pub async fn refresh_fleets(state: &Dispatch, transporters: &[Uuid]) {
    for transporter in transporters {
        if let Err(error) = state.presence.refresh_keys(*transporter).await {
            tracing::warn!(transporter.id = %transporter, error = %error, "could not refresh a fleet's free vehicles");
        }
    }
}

async fn after_unanswered(state: &Dispatch, ended: &Ended) {
    refresh_fleets(state, &[ended.assignment.transporter_id]).await;
    crate::orders::mirror::publish(&state.cache, &ended.order).await;
    if ended.reopened {
        crate::broadcast::steps::run_now(state, ended.order.id);
    }
}

/// The events of an assignment that ended unanswered (declined or timed
/// out), read in its transaction.
async fn unanswered_events(
    conn: &mut AsyncPgConnection,
    ended: &Ended,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Outgoing>> {
    let a = &ended.assignment;
    let order = &ended.order;
    let timed_out = a.status() == AssignmentStatus::TimedOut;
    let driver = users::find(conn, a.driver_id).await?;
    let driver_name = driver
        .and_then(|d| d.name)
        .unwrap_or_else(|| "Driver".to_owned());
    let message = if timed_out {
        "The driver did not answer in time; the truck is open again"
    } else {
        "The driver declined; the truck is open again"
    };
    let mut for_customer = AssignmentStatusChanged::of(a, message);
    for_customer.status = "driver_declined".to_owned();
    for_customer.reason = Some(if timed_out { "timeout" } else { "declined" });
    let transporter = Room::Transporter(a.transporter_id);
    let mut for_transporter = AssignmentStatusChanged::of(a, message);
    if timed_out {
        // The captain app knows `expired` (and `driver_declined`), not
        // `timed_out`: its trip-status screen would show "waiting for
        // driver" after a timeout.
        for_transporter.status = view::status_word(a.status()).to_owned();
        for_transporter.reason = Some("timeout");
    }
    let mut events = vec![
        Event::AssignmentStatusChanged(for_transporter).to([transporter], order.id),
        Event::AssignmentStatusChanged(for_customer).to(Room::of_order(order), order.id),
    ];
    if !timed_out {
        events.push(
            Event::DriverDeclined(DriverDeclined {
                order_id: order.id,
                assignment_id: a.id,
                trip_id: a.trip_id,
                driver_id: a.driver_id,
                driver_name: driver_name.clone(),
                vehicle_number: a.vehicle_number.clone(),
                reason: a
                    .decline_reason
                    .clone()
                    .unwrap_or_else(|| "declined".to_owned()),
                message: "The driver declined; the truck is open again",
            })
            .to([transporter], order.id),
        );
    }
    if timed_out {
        events.push(
            Event::DriverTimeout(DriverTimeout {
                assignment_id: a.id,
                trip_id: a.trip_id,
                order_id: order.id,
                driver_id: a.driver_id,
                driver_name,
                vehicle_number: a.vehicle_number.clone(),
                reason: "timeout",
                message: "The driver did not answer in time",
            })
            .to([transporter], order.id),
        );
    }
    events.extend(crate::fleet::vehicles_moved(conn, &[(a.transporter_id, a.vehicle_id)]).await?);
    let notified = dispatch::notified_of(conn, order.id).await?;
    let rooms = Room::of_order_and(order, &notified);
    events.push(
        Event::TrucksRemaining(TrucksRemaining::of(order, "", now)).to(rooms.clone(), order.id),
    );
    if order.status() == OrderStatus::Completed {
        events
            .push(Event::BookingCompleted(BookingCompleted::of(order)).to(rooms.clone(), order.id));
    }
    if order.status() == OrderStatus::Expired {
        let expired = OrderExpired::of(order, usize::from(!ended.reopened));
        events.push(Event::OrderExpired(expired).to(rooms, order.id));
    }
    Ok(events)
}

/// The driver's assignments still waiting for an answer, as the
/// `trip_assigned` events a reconnecting driver gets again
/// (`_reconnectDelivery`, with the seconds left).
pub async fn pending_trips(
    conn: &mut AsyncPgConnection,
    driver: Uuid,
    now: DateTime<Utc>,
    answer_secs: i64,
) -> diesel::QueryResult<Vec<(String, Value)>> {
    let pending = assignments::pending_of_driver(conn, driver, now).await?;
    let mut events = Vec::with_capacity(pending.len());
    for a in &pending {
        let (Some(order), Some(truck)) = (
            orders::find(conn, a.order_id).await?,
            orders::trucks_by_ids(conn, &[a.truck_request_id])
                .await?
                .pop(),
        ) else {
            continue;
        };
        let customer = users::find(conn, order.customer_id).await?;
        let mut trip = TripAssigned::of(
            a,
            &order,
            &truck,
            customer.as_ref(),
            answer_secs,
            view::route_points(&order),
        );
        trip.remaining_seconds = view::remaining_seconds(a, now);
        trip.reconnect_delivery = Some(true);
        let event = Event::TripAssigned(Box::new(trip));
        events.push((event.name().to_owned(), event.payload()));
    }
    Ok(events)
}

/// `AssignmentData` of one assignment, read on the caller's connection.
async fn one_view(
    conn: &mut AsyncPgConnection,
    a: &Assignment,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Value> {
    Ok(views(conn, std::slice::from_ref(a), now)
        .await?
        .pop()
        .unwrap_or(Value::Null))
}

/// `AssignmentData` of each assignment (one query per table, not per row).
pub async fn views(
    conn: &mut AsyncPgConnection,
    list: &[Assignment],
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Value>> {
    let order_ids: Vec<Uuid> = list.iter().map(|a| a.order_id).collect();
    let truck_ids: Vec<Uuid> = list.iter().map(|a| a.truck_request_id).collect();
    let all_orders: Vec<Order> = orders::find_many(conn, &order_ids).await?;
    let trucks = orders::trucks_by_ids(conn, &truck_ids).await?;
    let mut people: Vec<Uuid> = list
        .iter()
        .flat_map(|a| [a.driver_id, a.transporter_id])
        .chain(all_orders.iter().map(|o| o.customer_id))
        .collect();
    people.sort_unstable();
    people.dedup();
    let found = users::find_many(conn, &people).await?;
    let user = |id: Uuid| found.iter().find(|u| u.id == id);
    Ok(list
        .iter()
        .filter_map(|a| {
            let order = all_orders.iter().find(|o| o.id == a.order_id)?;
            let truck = trucks.iter().find(|t| t.id == a.truck_request_id);
            let who = view::People {
                driver: user(a.driver_id),
                transporter: user(a.transporter_id),
                customer: user(order.customer_id),
            };
            Some(view::assignment_data(a, order, truck, who, now))
        })
        .collect())
}
