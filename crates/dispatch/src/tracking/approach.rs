//! `driver_approaching`: once per trip, when a truck heading to the pickup
//! comes within `maps.approaching_within_m` of it or its estimated drive
//! there falls under `maps.approaching_within_secs`, the customer hears it.
//! Settled by a compare-and-set on the assignment, in the transaction that
//! writes the event, so no two fixes or instances send it twice. The ETA is
//! the embedded estimate (straight line × road factor at the truck's
//! speed): a fix never waits on a maps provider.

use diesel_async::AsyncConnection;
use weelo_availability::Point;
use weelo_availability::geo::haversine_m;
use weelo_orders::assignment::AssignmentStatus;
use weelo_persistence::assignments::Assignment;
use weelo_persistence::{PersistenceError, orders, trips, users};

use super::{Fix, Tracking, locked};
use crate::events::{DriverApproaching, Event, Room};
use crate::places::types::{duration_text, minutes_of};

impl Tracking {
    /// Sends `driver_approaching` for `trip` if `fix` is close enough and
    /// it has not gone out yet.
    pub(crate) async fn check_approach(
        &self,
        trip: &Assignment,
        fix: &Fix,
    ) -> Result<(), PersistenceError> {
        if !matches!(
            trip.status(),
            AssignmentStatus::DriverAccepted | AssignmentStatus::EnRoutePickup
        ) {
            return Ok(());
        }
        let known = locked(&self.inner.approached).get(&trip.trip_id).copied();
        let pickup = match known {
            Some((_, true)) => return Ok(()),
            Some((pickup, false)) => pickup,
            None => {
                let mut conn = self.inner.db.get().await?;
                let Some(order) = orders::find(&mut conn, trip.order_id).await? else {
                    return Ok(());
                };
                let pickup = Point::new(order.pickup_latitude, order.pickup_longitude);
                locked(&self.inner.approached).insert(trip.trip_id, (pickup, false));
                pickup
            }
        };
        let maps = &self.inner.maps;
        let straight = haversine_m(Point::new(fix.latitude, fix.longitude), pickup);
        let secs = maps.estimate_secs(straight, None);
        if straight > maps.approaching_within_m && secs > maps.approaching_within_secs {
            return Ok(());
        }
        let now = self.inner.clock.now();
        let mut conn = self.inner.db.get().await?;
        let sent = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                if !trips::mark_approaching(conn, trip.id, now).await? {
                    return Ok(false);
                }
                let Some(order) = orders::find(conn, trip.order_id).await? else {
                    return Ok(false);
                };
                let driver_name = users::find(conn, trip.driver_id)
                    .await?
                    .and_then(|d| d.name)
                    .unwrap_or_else(|| "Driver".to_owned());
                let event = Event::DriverApproaching(DriverApproaching {
                    trip_id: trip.trip_id,
                    order_id: order.id,
                    booking_id: order.id,
                    driver_id: trip.driver_id,
                    driver_name,
                    vehicle_number: trip.vehicle_number.clone(),
                    distance_km: (straight * maps.road_factor / 100.0).round() / 10.0,
                    duration_minutes: minutes_of(secs),
                    duration_text: duration_text(secs),
                })
                .to(Room::of_order(&order), order.id);
                crate::events::append(conn, &[event], now).await?;
                Ok(true)
            })
            .await?;
        if let Some(entry) = locked(&self.inner.approached).get_mut(&trip.trip_id) {
            entry.1 = true;
        }
        if sent {
            tracing::info!(trip.id = %trip.trip_id, "driver approaching the pickup");
        }
        Ok(())
    }
}
