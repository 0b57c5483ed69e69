//! The presence use cases the apps call: a transporter or driver going
//! online or offline (the toggle under its cooldown, then the proximity
//! index), a transporter's heartbeat, and the customer's map of nearby
//! trucks (coarsened, so it locates nobody).

use chrono::Duration;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_availability::{Point, VehicleKey};

use super::BeatOutcome;
use crate::wire::iso;
use crate::{Dispatch, DispatchError, fleet};

/// A transporter's availability, whether it is in the index, and how long
/// until it may switch again.
pub async fn transporter_state(
    dispatch: &Dispatch,
    transporter: Uuid,
) -> Result<Value, DispatchError> {
    let (available, changed_at) = fleet::availability(dispatch, transporter).await?;
    let now = dispatch.clock.now();
    let cooldown = Duration::milliseconds(dispatch.presence.settings().toggle_cooldown_ms);
    let cooldown_left = changed_at.map_or(0, |at| (at + cooldown - now).num_milliseconds().max(0));
    Ok(json!({
        "isAvailable": available,
        "isOnline": available && dispatch.presence.is_online(transporter),
        "updatedAt": changed_at.map(iso),
        "cooldownRemainingMs": cooldown_left,
    }))
}

/// Switches a transporter on or off under the cooldown; on, it is indexed
/// under its free vehicles' keys at once, off, it leaves the index.
pub async fn switch_transporter(
    dispatch: &Dispatch,
    transporter: Uuid,
    available: bool,
) -> Result<Value, DispatchError> {
    let cooldown_ms = dispatch.presence.settings().toggle_cooldown_ms;
    let changed = super::toggle(dispatch, transporter, available, cooldown_ms).await?;
    if changed {
        if available {
            let keys = fleet::free_vehicle_keys(dispatch, transporter).await?;
            dispatch.presence.set_online(transporter, keys).await;
        } else {
            dispatch.presence.set_offline(transporter).await;
        }
        tracing::info!(transporter.id = %transporter, transporter.available = available, "availability changed");
    }
    Ok(json!({
        "isAvailable": available,
        "idempotent": !changed,
        "cooldownMs": if changed { cooldown_ms } else { 0 },
        "updatedAt": iso(dispatch.clock.now()),
    }))
}

/// A transporter stops its heartbeat: offline now, never refused by the
/// cooldown.
pub async fn stop_heartbeat(
    dispatch: &Dispatch,
    transporter: Uuid,
) -> Result<Value, DispatchError> {
    let changed = super::toggle(dispatch, transporter, false, 0).await?;
    dispatch.presence.set_offline(transporter).await;
    Ok(json!({ "registered": false, "isAvailable": false, "idempotent": !changed }))
}

/// A transporter's heartbeat at `at`: indexed under its free vehicles'
/// keys while it is online.
pub async fn heartbeat(
    dispatch: &Dispatch,
    transporter: Uuid,
    at: Point,
    on_trip: bool,
    vehicle_id: Option<Uuid>,
) -> Result<Value, DispatchError> {
    let outcome = dispatch.presence.beat(transporter, at, on_trip).await?;
    let next = dispatch.presence.settings().heartbeat_interval_ms;
    Ok(match outcome {
        BeatOutcome::Registered { keys } => json!({
            "registered": true,
            "vehicleKey": keys.first(),
            "vehicleKeys": keys,
            "vehicleId": vehicle_id,
            "isOnTrip": on_trip,
            "nextHeartbeatMs": next,
        }),
        BeatOutcome::Offline => json!({
            "registered": false,
            "reason": "offline",
            "isOnTrip": on_trip,
            "nextHeartbeatMs": next,
        }),
    })
}

/// A driver's availability.
pub async fn driver_state(dispatch: &Dispatch, driver: Uuid) -> Result<Value, DispatchError> {
    let (online, changed_at) = fleet::availability(dispatch, driver).await?;
    Ok(json!({ "isOnline": online, "lastLocation": null, "updatedAt": changed_at.map(iso) }))
}

/// Switches a driver on or off under the cooldown.
pub async fn switch_driver(
    dispatch: &Dispatch,
    driver: Uuid,
    online: bool,
) -> Result<Value, DispatchError> {
    let cooldown_ms = dispatch.presence.settings().toggle_cooldown_ms;
    let changed = super::toggle(dispatch, driver, online, cooldown_ms).await?;
    Ok(json!({
        "isOnline": online,
        "idempotent": !changed,
        "cooldownMs": if changed { cooldown_ms } else { 0 },
        "updatedAt": iso(dispatch.clock.now()),
    }))
}

/// Rounds to 2 decimals: about 1.1 km north-south and 1 km east-west in
/// India. A map of cars, not a tracker: nobody finds a fleet's yard, or
/// follows a truck home, from what the customer's map shows.
fn coarse(degrees: f64) -> f64 {
    (degrees * 100.0).round() / 100.0
}

/// The customer's map: up to `limit` online trucks of `key` within
/// `radius_km` of `at`, their positions coarsened.
pub fn nearby(
    dispatch: &Dispatch,
    key: &VehicleKey,
    at: Point,
    limit: usize,
    radius_km: f64,
) -> Vec<Value> {
    dispatch
        .presence
        .nearest(key.as_str(), at, limit, radius_km * 1000.0)
        .iter()
        .map(|n| {
            json!({
                "latitude": coarse(n.point.latitude),
                "longitude": coarse(n.point.longitude),
                // Whole kilometres: finer distances from known points
                // would locate the truck again.
                "distanceKm": (n.distance_m / 1000.0).round(),
            })
        })
        .collect()
}
