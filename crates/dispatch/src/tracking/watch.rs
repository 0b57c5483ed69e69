//! The silence watchdog, run by each instance's sweeper: a trip on the road
//! whose latest fix (or start, before any) is older than the configured
//! time is reported once, `driver_connectivity_issue` to the customer and
//! `driver_may_be_offline` to the transporter, by a compare-and-set on the
//! assignment so instances never report it twice. A fix clears the mark.

use diesel_async::AsyncConnection;
use weelo_persistence::orders;
use weelo_persistence::{PersistenceError, trips, users};

use crate::Dispatch;
use crate::events::{DriverConnectivityIssue, DriverMayBeOffline, Event, Room};

/// One pass over every trip on the road, a page at a time (each page's
/// latest fixes in one Redis round trip); returns how many were reported.
pub async fn sweep_silent(state: &Dispatch) -> Result<usize, PersistenceError> {
    state.tracking.prune();
    let mut reported = 0;
    let mut after = None;
    loop {
        let page = {
            let mut conn = state.conn().await?;
            trips::moving_unreported(&mut conn, after, state.orders.sweep_batch).await?
        };
        let full = page.len() >= usize::try_from(state.orders.sweep_batch).unwrap_or(usize::MAX);
        after = page.last().map(|trip| trip.id);
        reported += report_page(state, page).await?;
        if !full {
            return Ok(reported);
        }
    }
}

/// Reports the silent trips of one page.
async fn report_page(
    state: &Dispatch,
    moving: Vec<weelo_persistence::assignments::Assignment>,
) -> Result<usize, PersistenceError> {
    let now = state.clock.now();
    let silent_ms = state
        .tracking
        .settings()
        .silent_after_secs
        .saturating_mul(1000);
    let trip_ids: Vec<uuid::Uuid> = moving.iter().map(|trip| trip.trip_id).collect();
    let latest = state.tracking.latest_many(&trip_ids).await;
    let mut reported = 0;
    for trip in moving {
        let last_ms = match latest.get(&trip.trip_id) {
            Some(fix) => fix.at_ms,
            None => trip
                .trip_started_at
                .unwrap_or(trip.updated_at)
                .timestamp_millis(),
        };
        let silent_for_ms = now.timestamp_millis() - last_ms;
        if silent_for_ms < silent_ms {
            continue;
        }
        let mut conn = state.conn().await?;
        let done = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                if !trips::mark_silent(conn, trip.id, now).await? {
                    return Ok(false);
                }
                let Some(order) = orders::find(conn, trip.order_id).await? else {
                    return Ok(true);
                };
                let driver_name = users::find(conn, trip.driver_id)
                    .await?
                    .and_then(|d| d.name)
                    .unwrap_or_else(|| "Driver".to_owned());
                let seconds = silent_for_ms / 1000;
                let events = [
                    Event::DriverConnectivityIssue(DriverConnectivityIssue {
                        trip_id: trip.trip_id,
                        order_id: order.id,
                        driver_name: driver_name.clone(),
                        vehicle_number: trip.vehicle_number.clone(),
                        last_seen_seconds: seconds,
                        message: "We have not heard from the truck for a while",
                        timestamp: crate::wire::iso(now),
                    })
                    .to(Room::of_order(&order), order.id),
                    Event::DriverMayBeOffline(DriverMayBeOffline {
                        driver_id: trip.driver_id,
                        driver_name,
                        vehicle_number: trip.vehicle_number.clone(),
                        trip_id: trip.trip_id,
                        assignment_id: trip.id,
                        last_seen_seconds: seconds,
                        status: trip.status().trip_word(),
                        message: "The driver's phone has gone quiet on a trip",
                    })
                    .to([Room::Transporter(trip.transporter_id)], order.id),
                ];
                crate::events::append(conn, &events, now).await?;
                Ok(true)
            })
            .await?;
        if done {
            reported += 1;
            tracing::info!(trip.id = %trip.trip_id, silent.seconds = silent_for_ms / 1000, "trip reported silent");
        }
    }
    Ok(reported)
}
