//! `PUT tracking/trip/{tripId}/status`: the driver moves its trip forward in
//! the app's words; each change is one transaction with its events
//! (`assignment_status_changed` to the customer and the transporter, and
//! `booking_completed` when the order's last trip ends).

use serde_json::{Value, json};
use uuid::Uuid;
use weelo_orders::AssignmentStatus;
use weelo_persistence::dispatch;
use weelo_persistence::trips::{self, Advanced, TripRefused};

use crate::assignments::Answer;
use crate::events::{AssignmentStatusChanged, BookingCompleted, Event, Outgoing, Room};
use crate::idempotent::{self, Change, Keyed, Tx};
use crate::{Dispatch, DispatchError, ErrorCode};

/// Why a status update was refused.
#[derive(Debug, thiserror::Error)]
pub enum TripError {
    /// No such trip of this driver.
    #[error("trip not found")]
    TripNotFound,
    /// Backward, skipped, or the trip is over or not accepted.
    #[error("a trip that is {current} cannot become {requested}")]
    InvalidTransition {
        /// Where the trip is, in the app's words.
        current: &'static str,
        /// What was asked.
        requested: String,
    },
}

impl From<TripError> for DispatchError {
    fn from(error: TripError) -> Self {
        let message = error.to_string();
        match error {
            TripError::TripNotFound => DispatchError::refused(ErrorCode::TripNotFound, message),
            TripError::InvalidTransition { current, .. } => DispatchError::refused_with(
                ErrorCode::InvalidTransition,
                message,
                json!({ "currentStatus": current }),
            ),
        }
    }
}

fn message_of(word: &str) -> &'static str {
    match word {
        "heading_to_pickup" => "The driver is on the way to the pickup",
        "at_pickup" => "The driver reached the pickup",
        "loading_complete" => "Loading is complete",
        "in_transit" => "The truck is on its way to the drop",
        "arrived_at_drop" => "The truck reached the drop",
        _ => "The trip is complete",
    }
}

/// Moves `driver`'s trip `trip_id` to the app status `word`.
pub async fn change(
    state: &Dispatch,
    driver: Uuid,
    trip_id: Uuid,
    word: &str,
    keyed: Option<&Keyed>,
) -> Result<Answer, DispatchError> {
    let to = AssignmentStatus::from_trip_word(word).ok_or_else(|| {
        DispatchError::invalid_field(
            "status",
            "status must be one of heading_to_pickup, at_pickup, loading_complete, in_transit, arrived_at_drop, completed",
        )
    })?;
    let now = state.clock.now();
    let result = idempotent::run::<_, TripError, _>(state, keyed, driver, async |conn| {
        let advanced = trips::advance(conn, driver, trip_id, to, now)
            .await?
            .map_err(|refused| {
                Tx::Refused(match refused {
                    TripRefused::NotFound => TripError::TripNotFound,
                    TripRefused::InvalidTransition { current } => TripError::InvalidTransition {
                        current: current.trip_word(),
                        requested: word.to_owned(),
                    },
                })
            })?;
        let mut events = Vec::new();
        if advanced.changed {
            let notified = if advanced.order_completed {
                dispatch::notified_of(conn, advanced.order.id).await?
            } else {
                Vec::new()
            };
            events = trip_events(&advanced, word, &notified);
            if matches!(
                to,
                AssignmentStatus::InTransit | AssignmentStatus::Completed
            ) {
                let a = &advanced.assignment;
                let moved = [(a.transporter_id, a.vehicle_id)];
                events.extend(crate::fleet::vehicles_moved(conn, &moved).await?);
            }
        }
        let answer = answer(&advanced, now.timestamp_millis());
        Ok(Change {
            outcome: advanced,
            answer,
            events,
        })
    })
    .await?;
    let Some((advanced, data)) = result else {
        return Ok(Answer::Replay);
    };
    if advanced.changed {
        tracing::info!(trip.id = %trip_id, trip.status = word, order.status = %advanced.order.status, "trip moved");
        state.tracking.remember(advanced.assignment.clone());
        crate::orders::mirror::publish(&state.cache, &advanced.order).await;
        if to == AssignmentStatus::Completed {
            state.tracking.forget(trip_id);
            crate::assignments::refresh_fleets(state, &[advanced.assignment.transporter_id]).await;
        }
    }
    Ok(Answer::Done(data))
}

fn answer(advanced: &Advanced, now_ms: i64) -> Value {
    let a = &advanced.assignment;
    json!({
        "tripId": a.trip_id,
        "assignmentId": a.id,
        "orderId": a.order_id,
        "status": a.status().trip_word(),
        "changed": advanced.changed,
        "orderStatus": advanced.order.status,
        "orderCompleted": advanced.order_completed,
        "serverTimeMs": now_ms,
    })
}

/// `assignment_status_changed` for the order's watchers and the truck's
/// transporter; `booking_completed` too when this trip completed the order,
/// to everyone the order concerns (as when its last assignment ends
/// unanswered).
fn trip_events(advanced: &Advanced, word: &str, notified: &[Uuid]) -> Vec<Outgoing> {
    let a = &advanced.assignment;
    let order = &advanced.order;
    let transporter = Room::Transporter(a.transporter_id);
    let mut audience = Room::of_order(order);
    audience.push(transporter);
    let mut changed = AssignmentStatusChanged::of(a, message_of(word));
    changed.status = word.to_owned();
    changed.order_status = Some(order.status.as_str().to_owned());
    let mut events = vec![Event::AssignmentStatusChanged(changed).to(audience, order.id)];
    if advanced.order_completed {
        let mut everyone = Room::of_order_and(order, notified);
        if !everyone.contains(&transporter) {
            everyone.push(transporter);
        }
        events.push(Event::BookingCompleted(BookingCompleted::of(order)).to(everyone, order.id));
    }
    events
}
