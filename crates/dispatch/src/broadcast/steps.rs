//! Radius steps (docs/architecture.md, presence and dispatch): an order is dispatched at once within the
//! first radius, then again as each wider step starts (5, 10, 15, 30, 60,
//! 100 km at 0, 8, 16, 24, 32, 40 s by default), and again whenever a truck
//! reopens (a declined, timed-out or released truck sets its next step to
//! "now"). Each run tells only transporters not told before who have a free
//! vehicle of a line that still has open trucks.
//!
//! The first step is planned before the order is written and committed in
//! the create statement itself (`plan_first`), so a new order is never
//! without its first broadcast. A later run locks the order row (`FOR
//! UPDATE SKIP LOCKED`) and records the step, the notifications and the
//! `new_broadcast` events in that one transaction, so however many
//! instances sweep, each step runs once; every instance's sweeper runs the
//! steps that come due, so nothing waits on the instance that made the
//! order.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::StreamExt;
use uuid::Uuid;
use weelo_availability::Point;
use weelo_persistence::PersistenceError;
use weelo_persistence::dispatch::{self, Notified, Step};
use weelo_persistence::orders::{self, Order, TruckRequest};
use weelo_persistence::outbox::NewEvent;
use weelo_persistence::quiet_steps::{self, DueStep, QuietStep};

use super::{Group, PickupReach, broadcast, groups};
use crate::Dispatch;
use crate::events::{BroadcastStateChanged, Event, Room};
use weelo_orders::DispatchState;

/// What a run found and told.
pub(crate) struct Told {
    notified: Vec<Notified>,
    events: Vec<NewEvent>,
    candidates: i32,
    per_group: Vec<usize>,
}

/// Which step a run is, how far it reaches and when it runs.
#[derive(Clone, Copy)]
struct Reach {
    radius_m: f64,
    step: i32,
    now: DateTime<Utc>,
}

/// Finds the transporters to tell for `order` in this step's radius.
async fn find_and_tell(
    state: &Dispatch,
    conn: &mut AsyncPgConnection,
    order: &Order,
    groups: &[Group<'_>],
    already: &HashSet<Uuid>,
    reach: Reach,
) -> diesel::QueryResult<Told> {
    let Reach {
        radius_m,
        step,
        now,
    } = reach;
    let pickup = Point::new(order.pickup_latitude, order.pickup_longitude);
    let per_key = state.orders.broadcast_per_key;
    // transporter -> (distance, lines it was found for)
    let mut found: HashMap<Uuid, (f64, Vec<usize>)> = HashMap::new();
    for (index, group) in groups.iter().enumerate().filter(|(_, g)| g.open > 0) {
        for nearby in state
            .presence
            .nearest_excluding(group.key, pickup, per_key, radius_m, |id| {
                already.contains(&id)
            })
        {
            found
                .entry(nearby.id)
                .or_insert((nearby.distance_m, Vec::new()))
                .1
                .push(index);
        }
    }
    let mut told = Told {
        notified: Vec::new(),
        events: Vec::new(),
        candidates: i32::try_from(found.len() + already.len()).unwrap_or(i32::MAX),
        per_group: vec![0; groups.len()],
    };
    if found.is_empty() {
        return Ok(told);
    }
    let ids: Vec<Uuid> = found.keys().copied().collect();
    let counts = dispatch::free_vehicle_counts(conn, &ids).await?;
    let free = |transporter: Uuid, key: &str| {
        counts
            .iter()
            .find(|(t, k, _)| *t == transporter && k == key)
            .map_or(0, |(_, _, n)| usize::try_from(*n).unwrap_or(0))
    };
    for (transporter, (distance_m, lines)) in &found {
        let can_provide: usize = lines
            .iter()
            .map(|i| free(*transporter, groups[*i].key).min(groups[*i].open))
            .sum();
        if can_provide == 0 {
            continue;
        }
        for line in lines {
            told.per_group[*line] += 1;
        }
        told.notified.push(Notified {
            transporter_id: *transporter,
            distance_m: *distance_m,
        });
        let pickup = PickupReach::of(
            *distance_m,
            state.places.settings(),
            groups[lines[0]].vehicle_type,
        );
        let offer = broadcast(
            order,
            groups,
            lines,
            can_provide,
            pickup,
            now.timestamp_millis(),
            step,
        );
        told.events.push(
            Event::NewBroadcast(Box::new(offer))
                .to([Room::Transporter(*transporter)], order.id)
                .record(),
        );
    }
    if !told.notified.is_empty() {
        let state = BroadcastStateChanged {
            order_id: order.id,
            status: order.status,
            dispatch_state: DispatchState::Broadcasting,
            step: Some(step),
            radius_km: Some(radius_m / 1000.0),
            notified_transporters: Some(
                order.notified_transporters + i32::try_from(told.notified.len()).unwrap_or(0),
            ),
            online_candidates: Some(told.candidates),
        };
        told.events.push(
            Event::BroadcastStateChanged(state)
                .to(Room::of_order(order), order.id)
                .record(),
        );
    }
    Ok(told)
}

/// The first step of a new order, planned before the order is written so
/// that the create statement commits them together.
pub(crate) struct FirstStep {
    told: Told,
    number: i32,
    next_at: Option<DateTime<Utc>>,
}

impl FirstStep {
    /// The step as the create statement records it.
    pub(crate) fn step(&self) -> Step<'_> {
        Step {
            number: self.number,
            online_candidates: self.told.candidates,
            notified: &self.told.notified,
            events: &self.told.events,
            next_at: self.next_at,
        }
    }

    /// How many transporters were told of each (type, subtype) line, in the
    /// order of the answer's `broadcastSummary.groupedBy`.
    pub(crate) fn notified_per_group(&self) -> &[usize] {
        &self.told.per_group
    }
}

/// Plans the first step of `order` (not yet written) with `trucks`: whom to
/// tell within the first radius, and when the next step is due.
pub(crate) async fn plan_first(
    state: &Dispatch,
    conn: &mut AsyncPgConnection,
    order: &Order,
    trucks: &[TruckRequest],
) -> diesel::QueryResult<FirstStep> {
    let settings = &state.orders;
    let groups = groups(trucks);
    let number = settings.step_at(0);
    let told = find_and_tell(
        state,
        conn,
        order,
        &groups,
        &HashSet::new(),
        Reach {
            radius_m: settings.radius_at(0),
            step: number,
            now: order.created_at,
        },
    )
    .await?;
    Ok(FirstStep {
        told,
        number,
        next_at: settings
            .next_step_secs(0)
            .map(|secs| order.created_at + Duration::seconds(secs)),
    })
}

/// Runs the due step of order `id` if this call can take it; returns the
/// order after.
async fn run(state: &Dispatch, id: Uuid) -> Result<Option<(Order, usize)>, PersistenceError> {
    let now = state.clock.now();
    let settings = state.orders.clone();
    let mut conn = state.conn().await?;
    let done = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let Some(order) = dispatch::lock_for_step(conn, id, now).await? else {
                return Ok(None);
            };
            let trucks: Vec<TruckRequest> = orders::trucks_of(conn, id).await?;
            let already: HashSet<Uuid> =
                dispatch::notified_of(conn, id).await?.into_iter().collect();
            let elapsed = (now - order.created_at).num_seconds();
            let number = settings.step_at(elapsed);
            let next_at = settings
                .next_step_secs(elapsed)
                .map(|secs| order.created_at + Duration::seconds(secs));
            let groups = groups(&trucks);
            let told = find_and_tell(
                state,
                conn,
                &order,
                &groups,
                &already,
                Reach {
                    radius_m: settings.radius_at(elapsed),
                    step: number,
                    now,
                },
            )
            .await?;
            let step = Step {
                number,
                online_candidates: told.candidates,
                notified: &told.notified,
                events: &told.events,
                next_at,
            };
            Ok(dispatch::record_step(conn, id, &step, now)
                .await?
                .map(|updated| (updated, told.notified.len())))
        })
        .await?;
    if let Some((order, notified)) = &done {
        tracing::info!(
            order.id = %order.id,
            dispatch.step = order.dispatch_attempts,
            dispatch.notified = notified,
            dispatch.total_notified = order.notified_transporters,
            "dispatch step"
        );
        state.wake_relay();
        crate::orders::mirror::publish(&state.cache, order).await;
    }
    Ok(done)
}

/// Runs every step that is due (the sweeper's part); returns how many ran.
/// The steps that find nobody near the pickup (checked in this instance's
/// presence before anything is locked) are recorded for the whole batch by
/// one statement ([`quiet_steps::record`]); the others run one transaction
/// each, up to `orders.steps_in_flight` at once. A full batch is followed
/// by the next at once rather than at the next tick, so under load the
/// radius still widens on time (one order after another, a sweep of 200
/// steps a second fell behind at a few dozen creates a second). It stops
/// when a batch is not full or ran nothing (the rest is locked by another
/// instance's sweep or no longer searching).
pub async fn run_due(state: &Dispatch) -> Result<usize, PersistenceError> {
    let batch = state.orders.sweep_batch;
    let mut ran = 0;
    loop {
        let now = state.clock.now();
        let due = {
            let mut conn = state.conn().await?;
            quiet_steps::due(&mut conn, now, batch).await?
        };
        let full = i64::try_from(due.len()).unwrap_or(i64::MAX) >= batch;
        let (quiet, busy): (Vec<DueStep>, Vec<DueStep>) = due
            .into_iter()
            .partition(|step| nobody_near(state, step, now));
        let mut ran_now = record_quiet(state, &quiet, now).await?;
        let outcomes: Vec<Result<Option<(Order, usize)>, PersistenceError>> =
            futures_util::stream::iter(busy)
                .map(|step| run(state, step.id))
                .buffer_unordered(state.orders.steps_in_flight.max(1))
                .collect()
                .await;
        for outcome in outcomes {
            if outcome?.is_some() {
                ran_now += 1;
            }
        }
        ran += ran_now;
        if !full || ran_now == 0 {
            return Ok(ran);
        }
    }
}

/// Whether no transporter is online within this step's radius of the
/// pickup for any vehicle key the order still searches (then the step
/// would tell nobody, whoever was told before).
fn nobody_near(state: &Dispatch, step: &DueStep, now: DateTime<Utc>) -> bool {
    let elapsed = (now - step.created_at).num_seconds();
    let radius_m = state.orders.radius_at(elapsed);
    let pickup = Point::new(step.pickup_latitude, step.pickup_longitude);
    step.open_keys.iter().all(|key| {
        state
            .presence
            .nearest_excluding(key, pickup, 1, radius_m, |_| false)
            .is_empty()
    })
}

/// Records the steps that found nobody, in one statement, and mirrors the
/// orders they moved; returns how many.
async fn record_quiet(
    state: &Dispatch,
    due: &[DueStep],
    now: DateTime<Utc>,
) -> Result<usize, PersistenceError> {
    if due.is_empty() {
        return Ok(0);
    }
    let steps: Vec<QuietStep> = due
        .iter()
        .map(|step| {
            let elapsed = (now - step.created_at).num_seconds();
            QuietStep {
                order_id: step.id,
                number: state.orders.step_at(elapsed),
                next_at: state
                    .orders
                    .next_step_secs(elapsed)
                    .map(|secs| step.created_at + Duration::seconds(secs)),
            }
        })
        .collect();
    let recorded = {
        let mut conn = state.conn().await?;
        quiet_steps::record(&mut conn, &steps, now).await?
    };
    tracing::debug!(steps = recorded.len(), "dispatch steps that found nobody");
    let orders: Vec<&Order> = recorded.iter().collect();
    crate::orders::mirror::publish_all(&state.cache, &orders).await;
    Ok(recorded.len())
}

/// Re-dispatches order `id` now, in the background (a truck reopened); the
/// sweeper does it if this fails. Shutdown waits for it.
pub fn run_now(state: &Dispatch, id: Uuid) {
    let supervisor = state.supervisor.clone();
    let state = state.clone();
    supervisor.spawn(async move {
        if let Err(error) = run(&state, id).await {
            tracing::warn!(order.id = %id, error = %error, "re-dispatch failed; the sweeper will retry");
        }
    });
}
