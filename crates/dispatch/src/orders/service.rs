//! The create and cancel flows.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel_async::AsyncConnection;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use weelo_availability::{Point, VehicleKey, vehicle_type};
use weelo_cache::RateDecision;
use weelo_orders::OrderDraft;
use weelo_persistence::assignments::Assignment;
use weelo_persistence::orders::{self, Cancel, CreateRefused, Order};
use weelo_persistence::{cancellations, dispatch, idempotency};

use super::batcher::{CREATE_SCOPE, Creating};
use super::view::{CreatedExtras, PendingSettlement};
use super::{OrderError, dto, mirror};
use crate::events::{Event, OrderCancelled, Outgoing, Room, TripCancelled, room};
use crate::idempotent::{self, Change, Tx};
use crate::{Dispatch, DispatchError};

/// What a create answered: the HTTP status and `data`, fresh or replayed.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The `data` of the envelope, as JSON text.
    pub data: String,
    /// Whether it was replayed from an earlier request with the same key.
    pub replayed: bool,
}

/// A stable hash of a JSON body in canonical form (`Value::to_string`:
/// keys sorted, whitespace dropped).
pub fn body_hash(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Creates an order for `customer_id` from `body` under `key`: the first
/// dispatch step is planned, then one SQL statement claims the key with its
/// answer and writes the order, its trucks, `order_created` and the step's
/// notifications and events; a stale searching order of the customer is
/// expired first when it is what stands in the way.
pub async fn create(
    state: &Dispatch,
    customer_id: Uuid,
    key: &str,
    body: Value,
) -> Result<Answer, DispatchError> {
    let canonical = body.to_string();
    let hash = body_hash(&canonical);
    let draft: OrderDraft = crate::wire::parse(canonical.as_bytes())?;
    let mut order = draft
        .validate(|id| vehicle_type(id).map(|entry| entry.id))
        .map_err(|error| DispatchError::invalid_field(error.field, error.message))?;
    let now = state.clock.now();
    let route_source = measure_route(state, &mut order).await;
    if let Err(stale) = crate::pricing::check::check_order(&state.prices, &mut order, now) {
        // A retry of a create that was answered keeps its answer, even
        // after the quote it carried has expired.
        return replay(state, customer_id, key, &hash).await?.ok_or(stale);
    }
    let price_check = crate::pricing::check::summary(&order);
    let keys = order
        .lines
        .iter()
        .map(|line| {
            VehicleKey::new(&line.vehicle_type, &line.vehicle_subtype)
                .map(|k| k.as_str().to_owned())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| DispatchError::invalid_field("vehicleRequirements", error.to_string()))?;
    let hit = match check_rate(state, customer_id, now).await {
        Ok(hit) => hit,
        // Over the limit: only a replay may still be answered.
        Err(limited) => return replay(state, customer_id, key, &hash).await?.ok_or(limited),
    };

    let window = state.orders.search_window_secs;
    let (row, trucks) = orders::new_rows(
        customer_id,
        &order,
        &keys,
        now + chrono::Duration::seconds(window),
        now,
    );
    let (first, (total_pending, count)) = {
        let mut conn = state.conn().await?;
        let first = crate::broadcast::steps::plan_first(state, &mut conn, &row, &trucks).await?;
        (
            first,
            cancellations::pending_total(&mut conn, customer_id).await?,
        )
    };
    let row = dispatch::with_first_step(row, &first.step());
    let extras = CreatedExtras {
        notified_per_group: first.notified_per_group(),
        price_check: &price_check,
        pending_settlement: PendingSettlement {
            total_pending,
            count,
        },
    };
    let answer = dto::created(&row, &trucks, now, window, extras).map_err(|error| {
        DispatchError::Internal {
            cause: format!("the create answer did not serialize: {error}"),
        }
    })?;
    let rooms = room::names(&Room::of_order(&row));
    let creating = Arc::new(Creating {
        rooms,
        order: row,
        trucks,
        key: key.to_owned(),
        request_hash: hash,
        answer,
        first,
        route: order.route_distance_km.map(|km| (km, route_source)),
    });
    let mut expired_stale = false;
    loop {
        // The connection goes back to the pool before the batcher needs one.
        match state.creates.create(Arc::clone(&creating)).await? {
            Ok(()) => break,
            Err(CreateRefused::KeyTaken) => {
                undo_rate(state, customer_id, hit.as_deref()).await;
                return replay(state, customer_id, key, &creating.request_hash)
                    .await?
                    .ok_or_else(|| OrderError::IdempotencyConflict.into());
            }
            Err(CreateRefused::ActiveOrderExists) => {
                let mut conn = state.conn().await?;
                let stale = if expired_stale {
                    None
                } else {
                    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                        let expired = orders::expire_customer_due(conn, customer_id, now).await?;
                        super::expiry::announce_expired(conn, expired.as_slice(), now).await?;
                        Ok(expired)
                    })
                    .await?
                };
                match stale {
                    Some(expired) => {
                        tracing::info!(order.id = %expired.order.id, order.reason = expired.reason_code, "expired a stale order before a create");
                        mirror::publish(&state.cache, &expired.order).await;
                        expired_stale = true;
                    }
                    None => {
                        let active = orders::searching_any(&mut conn, customer_id).await?;
                        return Err(OrderError::ActiveOrderExists {
                            active_order_id: active.map(|o| o.id),
                        }
                        .into());
                    }
                }
            }
        }
    }
    // The batcher wrote the order's snapshots to the mirror before answering.
    state.wake_relay();
    let row = &creating.order;
    state.expiry.schedule(row.id, row.expires_at);
    tracing::info!(
        order.id = %row.id,
        customer.id = %customer_id,
        order.trucks = row.total_trucks,
        dispatch.notified = row.notified_transporters,
        "order created with its first dispatch step"
    );
    Ok(Answer {
        status: 201,
        data: creating.answer.clone(),
        replayed: false,
    })
}

/// The road distance over the order's points, from the maps provider (or
/// the embedded estimate when it is the provider or fails), kept beside
/// the client's `distanceKm`.
async fn measure_route(
    state: &Dispatch,
    order: &mut weelo_orders::input::ValidOrder,
) -> &'static str {
    let mut points = vec![Point::new(order.pickup.latitude, order.pickup.longitude)];
    points.extend(
        order
            .stops
            .iter()
            .map(|s| Point::new(s.latitude, s.longitude)),
    );
    points.push(Point::new(order.drop.latitude, order.drop.longitude));
    let vehicle = order.lines.first().map(|l| l.vehicle_type.clone());
    let served = state.places.route(&points, vehicle.as_deref()).await;
    order.route_distance_km =
        i32::try_from(crate::places::types::km_of(served.value.distance_m)).ok();
    order.route_measured = served.source != crate::places::Source::Embedded;
    served.source.as_str()
}

/// The stored answer for `key`, or a conflict when it answered another body.
async fn replay(
    state: &Dispatch,
    customer_id: Uuid,
    key: &str,
    hash: &str,
) -> Result<Option<Answer>, DispatchError> {
    let mut conn = state.conn().await?;
    let Some(stored) = idempotency::find(&mut conn, customer_id, CREATE_SCOPE, key).await? else {
        return Ok(None);
    };
    if stored.request_hash != hash {
        return Err(OrderError::IdempotencyConflict.into());
    }
    Ok(Some(Answer {
        status: u16::try_from(stored.response_status).unwrap_or(200),
        data: stored.response_body.to_string(),
        replayed: true,
    }))
}

fn rate_bucket(customer_id: Uuid) -> String {
    format!("create-order:{customer_id}")
}

/// At most `creates_per_minute` creates per customer; fails open without
/// Redis. Returns the hit's id, to take it back if the create is a replay.
async fn check_rate(
    state: &Dispatch,
    customer_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, DispatchError> {
    let hit = Uuid::new_v4().to_string();
    match state
        .cache
        .rate_limit(
            &rate_bucket(customer_id),
            state.orders.creates_per_minute,
            60_000,
            now.timestamp_millis(),
            &hit,
        )
        .await
    {
        Ok(RateDecision::Allowed) => Ok(Some(hit)),
        Ok(RateDecision::Limited { retry_after_ms }) => {
            Err(OrderError::RateLimited { retry_after_ms }.into())
        }
        Err(error) => {
            tracing::warn!(error = %error, "rate limit unavailable; allowing the create");
            Ok(None)
        }
    }
}

/// Replays do not count against the limit.
async fn undo_rate(state: &Dispatch, customer_id: Uuid, hit: Option<&str>) {
    if let Some(hit) = hit
        && let Err(error) = state
            .cache
            .rate_limit_undo(&rate_bucket(customer_id), hit)
            .await
    {
        tracing::warn!(error = %error, "could not take back a replayed create's rate-limit hit");
    }
}

/// `order_cancelled` for everyone the order concerns, `trip_cancelled` for
/// each driver (and its transporter) whose trip it ended.
fn cancel_events(
    order: &Order,
    trucks_cancelled: usize,
    ended: &[Assignment],
    notified: &[Uuid],
    reason: &str,
) -> Vec<Outgoing> {
    let mut events = vec![
        Event::OrderCancelled(OrderCancelled {
            order_id: order.id,
            status: order.status,
            reason: reason.to_owned(),
            cancelled_at: order.cancelled_at,
            trucks_cancelled,
            message: "The customer cancelled this order",
        })
        .to(Room::of_order_and(order, notified), order.id),
    ];
    events.extend(ended.iter().map(|a| {
        Event::TripCancelled(TripCancelled {
            order_id: order.id,
            booking_id: order.id,
            assignment_id: a.id,
            trip_id: a.trip_id,
            vehicle_number: a.vehicle_number.clone(),
            reason: reason.to_owned(),
            message: "The customer cancelled this trip",
            cancelled_at: order.cancelled_at,
            pickup_address: order.pickup_address.clone(),
            drop_address: order.drop_address.clone(),
            compensation_amount: 0,
            settlement_state: "none",
        })
        .to(
            [
                Room::Driver(a.driver_id),
                Room::Transporter(a.transporter_id),
            ],
            order.id,
        )
    }));
    events
}

/// The reason the customer app gives when its timeout screen's Retry
/// cancels the old order before booking again.
pub const RETRY_AFTER_TIMEOUT: &str = "retry_after_timeout";

/// Cancels the customer's order; a cancelled or expired order answers its
/// state.
pub async fn cancel(
    state: &Dispatch,
    customer_id: Uuid,
    id: Uuid,
    reason: Option<&str>,
) -> Result<Value, DispatchError> {
    let now = state.clock.now();
    if reason == Some(RETRY_AFTER_TIMEOUT) {
        // The customer app's timeout screen cancels before it books again,
        // also when the window ended with trucks taken: those run on, so
        // the cancel of an order no longer searching changes nothing.
        let mut conn = state.conn().await?;
        if let Some(order) = orders::find(&mut conn, id).await?
            && order.customer_id == customer_id
            && !order.status.is_searching()
            && !order.status.is_terminal()
        {
            return Ok(json!({
                "orderId": order.id,
                "status": order.status,
                "cancelledAt": null,
                "reasonCode": order.reason_code,
                "alreadyFinal": false,
                "kept": true,
                "message": "The trucks already on this order keep going",
                "trucksCancelled": 0,
                "transportersNotified": 0,
                "driversNotified": 0,
                "assignmentsCancelled": 0,
                "cancelDecision": "allowed",
                "policyStage": "kept_running_trucks",
                "serverTimeMs": now.timestamp_millis(),
            }));
        }
    }
    let ran = idempotent::run::<_, DispatchError, _>(state, None, customer_id, async |conn| {
        let priced = super::cancel_policy::price(conn, id, now).await?;
        // Another customer's order is only ever "not found".
        let owned = orders::find(conn, id)
            .await?
            .is_some_and(|o| o.customer_id == customer_id);
        if owned && priced.evaluation.reason_required && reason.is_none() {
            return Err(Tx::Refused(DispatchError::invalid_field(
                "reason",
                format!(
                    "a reason is required to cancel at this stage ({})",
                    priced.evaluation.stage.as_str()
                ),
            )));
        }
        let outcome = orders::cancel(conn, customer_id, id, reason, now).await?;
        let mut events = Vec::new();
        if let Cancel::Cancelled {
            order,
            trucks_cancelled,
            assignments_cancelled,
        } = &outcome
        {
            let notified = dispatch::notified_of(conn, order.id).await?;
            let why = reason.unwrap_or("customer_cancelled");
            events = cancel_events(
                order,
                *trucks_cancelled,
                assignments_cancelled,
                &notified,
                why,
            );
            let freed: Vec<(Uuid, Uuid)> = assignments_cancelled
                .iter()
                .map(|a| (a.transporter_id, a.vehicle_id))
                .collect();
            events.extend(crate::fleet::vehicles_moved(conn, &freed).await?);
            let row = priced.ledger(order.id, customer_id, reason, now);
            weelo_persistence::cancellations::record(conn, &row).await?;
        }
        // The answer is the order as it stands after the commit.
        Ok(Change {
            outcome: (outcome, priced),
            answer: Value::Null,
            events,
        })
    })
    .await?;
    let Some(((outcome, priced), _)) = ran else {
        return Err(DispatchError::internal(
            "a cancel without a key was answered as a replay",
        ));
    };
    let (order, trucks_cancelled, ended, already) = match outcome {
        Cancel::Cancelled {
            order,
            trucks_cancelled,
            assignments_cancelled,
        } => (order, trucks_cancelled, assignments_cancelled, false),
        Cancel::AlreadyFinal(order) => (order, 0, Vec::new(), true),
        Cancel::Blocked(order) => {
            return Err(OrderError::CancelBlocked {
                status: order.status.as_str().to_owned(),
            }
            .into());
        }
        Cancel::NotFound => return Err(OrderError::OrderNotFound.into()),
    };
    if !already {
        tracing::info!(order.id = %order.id, trucks_cancelled, assignments_cancelled = ended.len(), "order cancelled");
    }
    let mut fleets: Vec<Uuid> = ended.iter().map(|a| a.transporter_id).collect();
    fleets.dedup();
    crate::assignments::refresh_fleets(state, &fleets).await;
    let mut drivers: Vec<Uuid> = ended.iter().map(|a| a.driver_id).collect();
    drivers.sort_unstable();
    drivers.dedup();
    mirror::publish(&state.cache, &order).await;
    let mut answer = if already {
        json!({ "cancelDecision": "allowed", "policyStage": order.status.as_str(), "pendingPenaltyAmount": 0, "settlementState": "none" })
    } else {
        priced.fields()
    };
    for (key, value) in [
        ("orderId", json!(order.id)),
        ("status", json!(order.status)),
        (
            "cancelledAt",
            json!(order.cancelled_at.map(crate::wire::iso)),
        ),
        ("reasonCode", json!(order.reason_code)),
        ("alreadyFinal", json!(already)),
        ("trucksCancelled", json!(trucks_cancelled)),
        (
            "transportersNotified",
            json!(if already {
                0
            } else {
                order.notified_transporters
            }),
        ),
        ("driversNotified", json!(drivers.len())),
        ("assignmentsCancelled", json!(ended.len())),
        ("serverTimeMs", json!(now.timestamp_millis())),
    ] {
        answer[key] = value;
    }
    Ok(answer)
}
