//! GPS fixes in, from the trip's driver only: each is validated
//! (coordinates, speed, bearing, a timestamp not in the future), the batch
//! ordered by time and de-duplicated, fixes older than the trip's latest are
//! stale; the rest are kept (history in batches, the latest here and in
//! Redis) and the customer's order room gets `location_updated`.

use crate::sockets::Delivery;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;
use weelo_orders::input::{INDIA_LATITUDE, INDIA_LONGITUDE};
use weelo_persistence::trips::{self, NewPoint, ON_TRIP};
use weelo_persistence::{PersistenceError, assignments::Assignment};

use super::{Fix, Tracking, TrackingSettings};
use crate::events::{Event, LocationUpdated, Room};
use crate::wire::iso;

/// Where fixes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Socket `update_location` (one fix, stamped on arrival).
    Socket,
    /// `POST tracking/batch` (the answer counts what was stored).
    Batch,
}

/// The counts `tracking/batch` answers with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Points received.
    pub processed: usize,
    /// Points kept.
    pub accepted: usize,
    /// Older than the trip's latest fix (or the trip is over).
    pub stale: usize,
    /// The same time as another point of the batch or one already kept.
    pub duplicate: usize,
    /// Malformed, out of range or in the future.
    pub invalid: usize,
    /// The newest kept point's time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accepted_timestamp: Option<String>,
}

/// Why fixes were refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No such trip of this driver.
    #[error("trip not found")]
    TripNotFound,
    /// More points than a batch may carry.
    #[error("a batch carries at most {0} points")]
    TooManyPoints(usize),
    /// The database failed.
    #[error(transparent)]
    Persistence(#[from] PersistenceError),
}

fn number(value: &Value, key: &str) -> Result<Option<f64>, ()> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().filter(|x| x.is_finite()).map(Some).ok_or(()),
        Some(_) => Err(()),
    }
}

fn timestamp_ms(value: &Value, now_ms: i64) -> Option<i64> {
    match value.get("timestamp") {
        None | Some(Value::Null) => Some(now_ms),
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.timestamp_millis()),
        // Epoch milliseconds, or seconds from older clients.
        Some(Value::Number(n)) => n.as_i64().and_then(|x| {
            if x < 100_000_000_000 {
                x.checked_mul(1000)
            } else {
                Some(x)
            }
        }),
        Some(_) => None,
    }
}

/// One raw point as a fix, or `None` when it is invalid.
pub fn parse_fix(value: &Value, now_ms: i64, settings: &TrackingSettings) -> Option<Fix> {
    let latitude = number(value, "latitude").ok()??;
    let longitude = number(value, "longitude").ok()??;
    let speed = number(value, "speed").ok()?;
    let bearing = number(value, "bearing").ok()?;
    let accuracy = number(value, "accuracy").ok()?;
    let in_range = (INDIA_LATITUDE.0..=INDIA_LATITUDE.1).contains(&latitude)
        && (INDIA_LONGITUDE.0..=INDIA_LONGITUDE.1).contains(&longitude)
        && speed.is_none_or(|s| (0.0..=settings.max_speed_mps).contains(&s))
        && bearing.is_none_or(|b| (0.0..=360.0).contains(&b))
        && accuracy.is_none_or(|a| a >= 0.0);
    let at_ms = timestamp_ms(value, now_ms)?;
    let future = at_ms > now_ms + settings.max_future_skew_secs.saturating_mul(1000);
    (in_range && !future && at_ms > 0).then_some(Fix {
        at_ms,
        latitude,
        longitude,
        speed,
        bearing,
        accuracy,
    })
}

/// Sorts out a batch against the trip's latest kept time: the fixes to
/// keep, oldest first, and the counts.
pub fn classify(
    raw: &[Value],
    last_ms: Option<i64>,
    now_ms: i64,
    settings: &TrackingSettings,
) -> (Vec<Fix>, Report) {
    let mut report = Report {
        processed: raw.len(),
        ..Report::default()
    };
    let mut fixes: Vec<Fix> = Vec::with_capacity(raw.len());
    for value in raw {
        match parse_fix(value, now_ms, settings) {
            Some(fix) => fixes.push(fix),
            None => report.invalid += 1,
        }
    }
    fixes.sort_by_key(|fix| fix.at_ms);
    let mut kept: Vec<Fix> = Vec::with_capacity(fixes.len());
    for fix in fixes {
        if kept.last().is_some_and(|prev| prev.at_ms == fix.at_ms) || last_ms == Some(fix.at_ms) {
            report.duplicate += 1;
        } else if last_ms.is_some_and(|last| fix.at_ms < last) {
            report.stale += 1;
        } else {
            kept.push(fix);
        }
    }
    report.accepted = kept.len();
    (kept, report)
}

fn point(trip_id: Uuid, fix: &Fix) -> Option<NewPoint> {
    Some(NewPoint {
        trip_id,
        recorded_at: DateTime::<Utc>::from_timestamp_millis(fix.at_ms)?,
        latitude: fix.latitude,
        longitude: fix.longitude,
        speed: fix.speed,
        bearing: fix.bearing,
        accuracy: fix.accuracy,
    })
}

/// `location_updated` for the customer's tracking screen.
pub fn location_updated(
    a: &Assignment,
    fix: &Fix,
    now_ms: i64,
    stale_after_secs: i64,
) -> LocationUpdated {
    let age = (now_ms - fix.at_ms).max(0);
    LocationUpdated {
        trip_id: a.trip_id,
        assignment_id: a.id,
        order_id: a.order_id,
        booking_id: a.order_id,
        driver_id: a.driver_id,
        vehicle_number: a.vehicle_number.clone(),
        latitude: fix.latitude,
        longitude: fix.longitude,
        speed: fix.speed.unwrap_or(0.0),
        bearing: fix.bearing.unwrap_or(0.0),
        timestamp: DateTime::<Utc>::from_timestamp_millis(fix.at_ms).map(iso),
        is_stale: age > stale_after_secs.saturating_mul(1000),
        location_age_ms: age,
    }
}

impl Tracking {
    /// Takes fixes of `trip_id` from `driver`.
    pub async fn ingest(
        &self,
        driver: Uuid,
        trip_id: Uuid,
        raw: &[Value],
        source: Source,
    ) -> Result<Report, IngestError> {
        let settings = self.settings().clone();
        if raw.len() > settings.max_batch_points {
            return Err(IngestError::TooManyPoints(settings.max_batch_points));
        }
        let trip = self
            .trip(trip_id)
            .await?
            .filter(|a| a.driver_id == driver)
            .ok_or(IngestError::TripNotFound)?;
        let now = self.inner.clock.now();
        let now_ms = now.timestamp_millis();
        if !ON_TRIP.contains(&trip.status()) {
            // Buffered fixes sent after the trip ended: answered, not kept,
            // so the app stops re-sending them.
            return Ok(Report {
                processed: raw.len(),
                stale: raw.len(),
                ..Report::default()
            });
        }
        // This instance's latest fix first; Redis and then PostgreSQL only
        // for a trip it has not seen yet.
        let mut last_ms = match self.local_latest(trip_id) {
            Some(fix) => Some(fix.at_ms),
            None => self.latest(trip_id).await.map(|fix| fix.at_ms),
        };
        if last_ms.is_none() && source == Source::Batch {
            let mut conn = self.inner.db.get().await.map_err(PersistenceError::from)?;
            last_ms = trips::last_point_at(&mut conn, trip_id)
                .await
                .map_err(PersistenceError::from)?
                .map(|at| at.timestamp_millis());
        }
        let (fixes, mut report) = classify(raw, last_ms, now_ms, &settings);
        let points: Vec<NewPoint> = fixes.iter().filter_map(|f| point(trip_id, f)).collect();
        match source {
            Source::Batch => {
                let mut conn = self.inner.db.get().await.map_err(PersistenceError::from)?;
                let stored = trips::insert_points(&mut conn, &points, now)
                    .await
                    .map_err(PersistenceError::from)?;
                report.duplicate += report.accepted - stored.min(report.accepted);
                report.accepted = stored.min(report.accepted);
            }
            Source::Socket => {
                for point in points {
                    if !self.queue_history(point) {
                        // Overload: the fix still counts live; logged quietly,
                        // since a flood would otherwise flood the log too.
                        tracing::debug!(trip.id = %trip_id, "trip history queue full; a fix is kept live only");
                    }
                }
            }
        }
        let Some(newest) = fixes.last().copied().filter(|_| report.accepted > 0) else {
            return Ok(report);
        };
        report.last_accepted_timestamp =
            DateTime::<Utc>::from_timestamp_millis(newest.at_ms).map(iso);
        let emit = self.may_emit(trip_id, now_ms);
        self.keep_latest(trip_id, newest, emit).await;
        if emit {
            let event = Event::LocationUpdated(location_updated(
                &trip,
                &newest,
                now_ms,
                settings.stale_after_secs,
            ));
            let delivery = Delivery {
                rooms: vec![Room::Order(trip.order_id).name()],
                name: event.name().to_owned(),
                data: event.payload(),
                event_id: format!("live-{}", Uuid::new_v4()),
                server_time_ms: now_ms,
            };
            crate::relay::publish_live(&self.inner.cache, self.inner.sockets.as_ref(), delivery)
                .await;
        }
        if let Err(error) = self.check_approach(&trip, &newest).await {
            // The fix is kept; the banner can wait for the next one.
            tracing::warn!(%error, trip.id = %trip_id, "driver_approaching was not settled");
        }
        if trip.silence_reported_at.is_some() {
            self.heard_again(trip).await?;
        }
        Ok(report)
    }

    /// A trip reported silent sends fixes again: a later silence is reported anew.
    async fn heard_again(&self, mut trip: Assignment) -> Result<(), PersistenceError> {
        let mut conn = self.inner.db.get().await?;
        trips::clear_silent(&mut conn, trip.trip_id).await?;
        trip.silence_reported_at = None;
        self.remember(trip);
        Ok(())
    }
}

impl From<IngestError> for crate::DispatchError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::TripNotFound => super::status::TripError::TripNotFound.into(),
            IngestError::TooManyPoints(_) => {
                crate::DispatchError::invalid_field("points", error.to_string())
            }
            IngestError::Persistence(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings() -> TrackingSettings {
        TrackingSettings {
            silent_after_secs: 120,
            stale_after_secs: 60,
            emit_interval_ms: 1000,
            max_future_skew_secs: 30,
            max_batch_points: 1000,
            max_speed_mps: 70.0,
            fix_ttl_secs: 60,
        }
    }

    fn at(ms: i64) -> Value {
        json!({ "latitude": 19.07, "longitude": 72.87, "speed": 10.0, "bearing": 90.0, "timestamp": ms })
    }

    #[test]
    fn a_batch_is_sorted_deduplicated_and_counted() {
        let now = 1_800_000_000_000;
        let raw = vec![
            at(now - 3_000),
            at(now - 5_000),
            at(now - 3_000),     // duplicate in the batch
            at(now - 60_000),    // older than the latest kept
            at(now - 10_000),    // equal to the latest kept
            at(now + 3_600_000), // future
            json!({ "latitude": 91.0, "longitude": 72.0, "timestamp": now }), // out of range
            json!({ "latitude": "x", "longitude": 72.0 }), // malformed
            json!({ "latitude": 19.0, "longitude": 72.9, "speed": -1.0 }), // negative speed
        ];
        let (kept, report) = classify(&raw, Some(now - 10_000), now, &settings());
        assert_eq!(
            report,
            Report {
                processed: 9,
                accepted: 2,
                stale: 1,
                duplicate: 2,
                invalid: 4,
                last_accepted_timestamp: None,
            }
        );
        assert_eq!(
            kept.iter().map(|f| f.at_ms).collect::<Vec<_>>(),
            vec![now - 5_000, now - 3_000]
        );
    }

    #[test]
    fn a_timestamp_whose_milliseconds_overflow_is_invalid_not_a_panic() {
        let now = 1_800_000_000_000;
        for timestamp in [i64::MIN, -9_300_000_000_000_000] {
            let fix = json!({ "latitude": 19.0, "longitude": 72.9, "timestamp": timestamp });
            assert_eq!(parse_fix(&fix, now, &settings()).map(|f| f.at_ms), None);
        }
    }

    #[test]
    fn timestamps_may_be_iso_seconds_or_milliseconds_and_default_to_arrival() {
        let now = 1_800_000_000_000;
        let s = settings();
        let iso =
            json!({ "latitude": 19.0, "longitude": 72.9, "timestamp": "2027-01-15T08:00:00.000Z" });
        // 1 800 000 000 s after the epoch is 2027-01-15T08:00:00Z.
        assert_eq!(parse_fix(&iso, now, &s).map(|f| f.at_ms), Some(now));
        let secs = json!({ "latitude": 19.0, "longitude": 72.9, "timestamp": 1_799_999_990 });
        assert_eq!(
            parse_fix(&secs, now, &s).map(|f| f.at_ms),
            Some(1_799_999_990_000)
        );
        let none = json!({ "latitude": 19.0, "longitude": 72.9 });
        assert_eq!(parse_fix(&none, now, &s).map(|f| f.at_ms), Some(now));
        let skewed = json!({ "latitude": 19.0, "longitude": 72.9, "timestamp": now + 20_000 });
        assert!(
            parse_fix(&skewed, now, &s).is_some(),
            "within the allowed skew"
        );
    }
}
