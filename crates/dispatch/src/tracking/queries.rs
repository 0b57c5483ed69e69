//! What the apps read about trips: one trip's marker, the driver's active
//! trip, the transporter's fleet map, a booking's trucks and the driver's
//! history. Each answers JSON in the apps' shapes, the live position taken
//! from the latest fix.

use serde_json::{Value, json};
use uuid::Uuid;
use weelo_orders::Role;
use weelo_persistence::assignments::{self as stored, Assignment};
use weelo_persistence::{orders, trips, users};

use super::status::TripError;
use super::view;
use crate::orders::OrderError;
use crate::{Dispatch, DispatchError};

/// The trip, if `user` (as `role`) is its driver, its transporter or the order's customer.
pub async fn visible_trip(
    state: &Dispatch,
    role: Role,
    user: Uuid,
    trip_id: Uuid,
) -> Result<Assignment, DispatchError> {
    let mut conn = state.conn().await?;
    let found = trips::find(&mut conn, trip_id).await?;
    let allowed = match &found {
        None => false,
        Some(a) => match role {
            Role::Driver => a.driver_id == user,
            Role::Transporter => a.transporter_id == user,
            Role::Customer => orders::find(&mut conn, a.order_id)
                .await?
                .is_some_and(|o| o.customer_id == user),
        },
    };
    found
        .filter(|_| allowed)
        .ok_or_else(|| TripError::TripNotFound.into())
}

/// One trip's marker, for whoever may see it.
pub async fn marker(
    state: &Dispatch,
    role: Role,
    user: Uuid,
    trip_id: Uuid,
) -> Result<Value, DispatchError> {
    let trip = visible_trip(state, role, user, trip_id).await?;
    let fix = state.tracking.latest(trip.trip_id).await;
    Ok(view::marker(&trip, fix.as_ref()))
}

/// The driver's current trip in the crash-recovery shape, or `null`.
pub async fn active_of(state: &Dispatch, driver: Uuid) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let Some(trip) = trips::active_of_driver(&mut conn, driver).await? else {
        return Ok(Value::Null);
    };
    let Some(order) = orders::find(&mut conn, trip.order_id).await? else {
        return Ok(Value::Null);
    };
    let truck = orders::trucks_by_ids(&mut conn, &[trip.truck_request_id])
        .await?
        .pop();
    let people = users::find_many(&mut conn, &[trip.driver_id, order.customer_id]).await?;
    let user = |id: Uuid| people.iter().find(|u| u.id == id);
    drop(conn);
    let fix = state.tracking.latest(trip.trip_id).await;
    Ok(view::active_trip(
        &trip,
        &order,
        truck.as_ref(),
        user(trip.driver_id),
        user(order.customer_id),
        fix.as_ref(),
    ))
}

/// The transporter's drivers on the road, each with its marker.
pub async fn fleet(state: &Dispatch, transporter: Uuid) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let live = trips::active_of_transporter(&mut conn, transporter).await?;
    let ids: Vec<Uuid> = live.iter().map(|a| a.driver_id).collect();
    let drivers = users::find_many(&mut conn, &ids).await?;
    drop(conn);
    let mut listed = Vec::with_capacity(live.len());
    for trip in &live {
        let fix = state.tracking.latest(trip.trip_id).await;
        let mut entry = view::marker(trip, fix.as_ref());
        entry["driverName"] = json!(
            drivers
                .iter()
                .find(|d| d.id == trip.driver_id)
                .and_then(|d| d.name.clone())
        );
        listed.push(entry);
    }
    Ok(json!({
        "transporterId": transporter,
        "activeDrivers": listed.len(),
        "drivers": listed,
    }))
}

/// The customer's order's assignments, or 404 when it is not theirs.
async fn trips_of_booking(
    state: &Dispatch,
    customer: Uuid,
    order_id: Uuid,
) -> Result<Vec<Assignment>, DispatchError> {
    let mut conn = state.conn().await?;
    if orders::find_for_customer(&mut conn, customer, order_id)
        .await?
        .is_none()
    {
        return Err(OrderError::OrderNotFound.into());
    }
    Ok(trips::of_order(&mut conn, order_id).await?)
}

/// The customer's order's trucks on the road, each with its marker.
pub async fn booking(
    state: &Dispatch,
    customer: Uuid,
    order_id: Uuid,
) -> Result<Value, DispatchError> {
    let list = trips_of_booking(state, customer, order_id).await?;
    let mut trucks = Vec::with_capacity(list.len());
    for trip in list.iter().filter(|a| a.status().is_live()) {
        let fix = state.tracking.latest(trip.trip_id).await;
        trucks.push(view::marker(trip, fix.as_ref()));
    }
    Ok(json!({ "bookingId": order_id, "orderId": order_id, "trucks": trucks }))
}

/// Every truck of the customer's order with its driver and position.
pub async fn booking_trucks(
    state: &Dispatch,
    customer: Uuid,
    order_id: Uuid,
) -> Result<Value, DispatchError> {
    let list = trips_of_booking(state, customer, order_id).await?;
    let mut conn = state.conn().await?;
    let truck_ids: Vec<Uuid> = list.iter().map(|a| a.truck_request_id).collect();
    let trucks = orders::trucks_by_ids(&mut conn, &truck_ids).await?;
    let driver_ids: Vec<Uuid> = list.iter().map(|a| a.driver_id).collect();
    let drivers = users::find_many(&mut conn, &driver_ids).await?;
    let ratings = weelo_persistence::ratings::averages_of(&mut conn, &driver_ids).await?;
    drop(conn);
    let mut listed = Vec::with_capacity(list.len());
    for trip in &list {
        let fix = state.tracking.latest(trip.trip_id).await;
        let mut truck = view::booking_truck(
            trip,
            trucks.iter().find(|t| t.id == trip.truck_request_id),
            drivers.iter().find(|d| d.id == trip.driver_id),
            fix.as_ref(),
        );
        if let Some(rating) = ratings.get(&trip.driver_id) {
            truck["driverRating"] = json!(rating.stars);
            truck["driverTotalRatings"] = json!(rating.count);
        }
        listed.push(truck);
    }
    Ok(json!({ "orderId": order_id, "trucks": listed }))
}

/// A driver's trips, or a whole fleet's (the transporter's Trips tab),
/// newest first, optionally of one status (`completed`, `cancelled`,
/// `in_transit`).
pub async fn driver_trips(
    state: &Dispatch,
    whose: stored::Whose,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let (list, total) = stored::of_whom(&mut conn, whose, status, limit, offset).await?;
    let order_ids: Vec<Uuid> = list.iter().map(|a| a.order_id).collect();
    let all_orders = orders::find_many(&mut conn, &order_ids).await?;
    let truck_ids: Vec<Uuid> = list.iter().map(|a| a.truck_request_id).collect();
    let trucks = orders::trucks_by_ids(&mut conn, &truck_ids).await?;
    let customer_ids: Vec<Uuid> = all_orders.iter().map(|o| o.customer_id).collect();
    let customers = users::find_many(&mut conn, &customer_ids).await?;
    let listed: Vec<Value> = list
        .iter()
        .filter_map(|a| {
            let order = all_orders.iter().find(|o| o.id == a.order_id)?;
            Some(view::trip_data(
                a,
                order,
                trucks.iter().find(|t| t.id == a.truck_request_id),
                customers.iter().find(|c| c.id == order.customer_id),
            ))
        })
        .collect();
    Ok(json!({
        "trips": listed,
        "total": total,
        "hasMore": offset + limit < total,
    }))
}
