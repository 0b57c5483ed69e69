//! Trips and tracking (reference §3.5, §3.12, §3.13): the driver's status
//! updates and GPS batches, and the live views of the driver, the
//! customer and the transporter.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::assignments::{self as stored, Assignment};
use weelo_persistence::{orders, trips, users};

use super::ok;
use crate::auth::{Authed, Caller, CustomerRole, DriverRole, Role, TransporterRole};
use crate::idempotent;
use crate::limits::Kind;
use crate::{ApiError, ApiJson, AppState};
use weelo_dispatch::assignments::Answer;
use weelo_dispatch::orders::OrderError;
use weelo_dispatch::tracking::ingest::{IngestError, Source};
use weelo_dispatch::tracking::status::{self, TripError};
use weelo_dispatch::tracking::view;

/// Mounts the tracking routes (the fixed paths before `tracking/{tripId}`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tracking/trip/{trip_id}/status", web::put().to(set_status))
        .route("/tracking/batch", web::post().to(batch))
        .route("/tracking/active-trip", web::get().to(active_trip))
        .route("/tracking/fleet", web::get().to(fleet))
        .route("/tracking/booking/{order_id}", web::get().to(booking))
        .route("/tracking/{trip_id}", web::get().to(one))
        .route("/bookings/{order_id}/trucks", web::get().to(booking_trucks))
        .route("/driver/trips/active", web::get().to(driver_active))
        .route("/driver/trips", web::get().to(driver_trips));
}

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::TripNotFound => TripError::TripNotFound.into(),
            IngestError::TooManyPoints(_) => ApiError::invalid_field("points", error.to_string()),
            IngestError::Persistence(error) => error.into(),
        }
    }
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn set_status(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    req: HttpRequest,
    trip_id: web::Path<Uuid>,
    body: ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let parsed: StatusBody = crate::json::parse(body.0.to_string().as_bytes())?;
    let keyed = idempotent::key_of(
        &req,
        "trip-status",
        &json!({ "trip": *trip_id, "status": parsed.status }),
    )?;
    let driver = caller.user_id();
    let word = parsed.status.trim().to_ascii_lowercase();
    match status::change(&state, driver, *trip_id, &word, keyed.as_ref()).await? {
        Answer::Done(data) => Ok(ok(data)),
        Answer::Replay => idempotent::replay(&state, keyed.as_ref(), driver).await,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchBody {
    trip_id: Uuid,
    points: Vec<Value>,
}

async fn batch(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    body: ApiJson<BatchBody>,
) -> Result<HttpResponse, ApiError> {
    state
        .limits
        .check(caller.user_id(), Kind::GpsBatch, state.clock.now())?;
    let report = state
        .tracking
        .ingest(caller.user_id(), body.trip_id, &body.points, Source::Batch)
        .await?;
    let mut data = json!(report);
    data["tripId"] = json!(body.trip_id);
    Ok(ok(data))
}

/// The trip, if `caller` is its driver, its transporter or the order's customer.
async fn visible_trip(
    state: &AppState,
    caller: &Caller,
    trip_id: Uuid,
) -> Result<Assignment, ApiError> {
    let mut conn = state.conn().await?;
    let found = trips::find(&mut conn, trip_id).await?;
    let allowed = match &found {
        None => false,
        Some(a) => match caller.role {
            Role::Driver => a.driver_id == caller.user_id,
            Role::Transporter => a.transporter_id == caller.user_id,
            Role::Customer => orders::find(&mut conn, a.order_id)
                .await?
                .is_some_and(|o| o.customer_id == caller.user_id),
        },
    };
    found
        .filter(|_| allowed)
        .ok_or_else(|| TripError::TripNotFound.into())
}

async fn one(
    state: web::Data<AppState>,
    caller: Caller,
    trip_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let trip = visible_trip(&state, &caller, *trip_id).await?;
    let fix = state.tracking.latest(trip.trip_id).await;
    Ok(ok(view::marker(&trip, fix.as_ref())))
}

/// The driver's current trip in the crash-recovery shape, or `null`.
async fn active_of(state: &AppState, driver: Uuid) -> Result<Value, ApiError> {
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

async fn active_trip(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(active_of(&state, caller.user_id()).await?))
}

async fn driver_active(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    let trip = active_of(&state, caller.user_id()).await?;
    Ok(ok(
        json!({ "hasActiveTrip": !trip.is_null(), "trip": trip }),
    ))
}

async fn fleet(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let transporter = caller.user_id();
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
    Ok(ok(json!({
        "transporterId": transporter,
        "activeDrivers": listed.len(),
        "drivers": listed,
    })))
}

/// The customer's order's assignments, or 404 when it is not theirs.
async fn trips_of_booking(
    state: &AppState,
    customer: Uuid,
    order_id: Uuid,
) -> Result<Vec<Assignment>, ApiError> {
    let mut conn = state.conn().await?;
    if orders::find_for_customer(&mut conn, customer, order_id)
        .await?
        .is_none()
    {
        return Err(OrderError::OrderNotFound.into());
    }
    Ok(trips::of_order(&mut conn, order_id).await?)
}

async fn booking(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    order_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let list = trips_of_booking(&state, caller.user_id(), *order_id).await?;
    let mut trucks = Vec::with_capacity(list.len());
    for trip in list.iter().filter(|a| a.status().is_live()) {
        let fix = state.tracking.latest(trip.trip_id).await;
        trucks.push(view::marker(trip, fix.as_ref()));
    }
    Ok(ok(
        json!({ "bookingId": *order_id, "orderId": *order_id, "trucks": trucks }),
    ))
}

async fn booking_trucks(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    order_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let list = trips_of_booking(&state, caller.user_id(), *order_id).await?;
    let mut conn = state.conn().await?;
    let truck_ids: Vec<Uuid> = list.iter().map(|a| a.truck_request_id).collect();
    let trucks = orders::trucks_by_ids(&mut conn, &truck_ids).await?;
    let driver_ids: Vec<Uuid> = list.iter().map(|a| a.driver_id).collect();
    let drivers = users::find_many(&mut conn, &driver_ids).await?;
    drop(conn);
    let mut listed = Vec::with_capacity(list.len());
    for trip in &list {
        let fix = state.tracking.latest(trip.trip_id).await;
        listed.push(view::booking_truck(
            trip,
            trucks.iter().find(|t| t.id == trip.truck_request_id),
            drivers.iter().find(|d| d.id == trip.driver_id),
            fix.as_ref(),
        ));
    }
    Ok(ok(json!({ "orderId": *order_id, "trucks": listed })))
}

#[derive(Deserialize)]
struct HistoryQuery {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn driver_trips(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = super::bounded("limit", query.limit.unwrap_or(50), 1..=100)?;
    let offset = super::bounded("offset", query.offset.unwrap_or(0), 0..=100_000)?;
    let status = match query.status.as_deref().map(str::trim) {
        None | Some("" | "all") => None,
        Some("completed") => Some("completed"),
        Some("cancelled") => Some("cancelled"),
        Some("in_transit") => Some("in_transit"),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "status",
                "status must be completed, cancelled or in_transit",
            ));
        }
    };
    let mut conn = state.conn().await?;
    let (list, total) =
        stored::of_driver(&mut conn, caller.user_id(), status, limit, offset).await?;
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
    Ok(ok(json!({
        "trips": listed,
        "total": total,
        "hasMore": offset + limit < total,
    })))
}
