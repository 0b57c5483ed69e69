//! A driver's figures end to end, read the way the captain app reads them:
//! each answer is deserialised into structs named like the app's DTOs
//! (`DriverApiService.kt`: `DashboardData`, `DashboardStats`,
//! `EarningsResponseData`, `PerformanceResponseData`, `TripData`,
//! `DriverData`), so a renamed or missing field fails here. Who may see
//! whose figures, and `driver/list` marking a driver on a trip.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::dispatch::{fleet_at, one_truck, take_one};
use crate::helpers::{TestApp, assert_error, spawn_app};
use crate::trips::set_status;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DashboardData {
    driver: DriverData,
    stats: DashboardStats,
    active_trip: Option<TripData>,
    recent_trips: Vec<TripData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DriverData {
    id: String,
    transporter_id: String,
    phone: String,
    is_online: bool,
    is_on_trip: bool,
    total_trips: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DashboardStats {
    today_trips: i64,
    today_earnings: f64,
    today_distance: f64,
    week_earnings: f64,
    month_earnings: f64,
    total_trips: i64,
    rating: f64,
    total_ratings: i64,
    acceptance_rate: f64,
    total_distance: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TripData {
    id: String,
    pickup: TripLocation,
    drop: TripLocation,
    distance_km: f64,
    fare: f64,
    status: String,
}

#[derive(Deserialize)]
struct TripLocation {
    latitude: f64,
    longitude: f64,
    address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EarningsResponseData {
    period: String,
    total_earnings: f64,
    total_trips: i64,
    average_per_trip: f64,
    breakdown: Vec<EarningsBreakdown>,
}

#[derive(Deserialize)]
struct EarningsBreakdown {
    date: String,
    earnings: f64,
    trips: i64,
    distance: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PerformanceResponseData {
    rating: f64,
    total_ratings: i64,
    acceptance_rate: f64,
    completion_rate: f64,
    total_trips: i64,
    total_distance: f64,
}

fn data<T: serde::de::DeserializeOwned>(status: StatusCode, body: &Value) -> T {
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body["data"].clone()).unwrap()
}

async fn drivers_row(app: &TestApp, transporter: &str, driver: &str) -> Value {
    let (_, list) = app.get_as("driver/list", transporter).await;
    list["data"]["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == driver)
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drivers_completed_trip_shows_in_its_dashboard_earnings_and_performance() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (28.6100, 77.2000)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app.create_order(&customer, "key-1", &one_truck()).await;
    let order_id = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    let made = take_one(&app, &t1, &order_id).await;
    let (assignment, trip) = (
        made["assignmentIds"][0].as_str().unwrap(),
        made["tripIds"][0].as_str().unwrap(),
    );

    // The customer's booking screen shows who is coming.
    let (_, booked) = app
        .get_as(&format!("bookings/orders/{order_id}"), &customer)
        .await;
    let request = &booked["data"]["requests"][0];
    assert_eq!(request["tripId"], trip, "{booked}");
    assert_eq!(request["assignedDriverName"], "Driver 1");
    assert!(
        request["assignedVehicleNumber"]
            .as_str()
            .is_some_and(|n| n.starts_with("MH12"))
    );
    assert!(request["assignedDriverPhone"].is_string());

    // Waiting for its answer, the driver is not offered for another truck.
    let row = drivers_row(&app, &t1.token, &t1.driver).await;
    assert_eq!(row["isOnTrip"], true, "{row}");
    assert_eq!(row["isAvailable"], false);
    assert_eq!(row["currentTripId"], trip);
    assert_eq!(row["assignedVehicleId"], t1.vehicle.as_str());

    app.call(
        Method::PATCH,
        &format!("assignments/{assignment}/accept"),
        Some(&t1.driver_token),
        None,
    )
    .await;
    let (status, body) = app.get_as("driver/dashboard", &t1.driver_token).await;
    let during: DashboardData = data(status, &body);
    assert_eq!(during.active_trip.map(|t| t.id).as_deref(), Some(trip));
    assert!(during.driver.is_on_trip);
    let (_, active) = app.get_as("driver/trips/active", &t1.driver_token).await;
    assert_eq!(active["data"]["trip"]["id"], trip, "TripData.id: {active}");
    // The fill reaches a replaying captain under a name its coordinator
    // removes the offer on.
    let replayed = app.replayed_event_types(&t1.token).await;
    assert!(
        replayed.iter().any(|t| t == "order_fully_filled"),
        "{replayed:?}"
    );
    assert!(
        !replayed.iter().any(|t| t == "booking_fully_filled"),
        "{replayed:?}"
    );
    for word in ["at_pickup", "loading_complete", "in_transit", "completed"] {
        assert_eq!(
            set_status(&app, &t1.driver_token, trip, word).await.0,
            StatusCode::OK
        );
    }

    let (status, body) = app.get_as("driver/dashboard", &t1.driver_token).await;
    let home: DashboardData = data(status, &body);
    assert_eq!(home.driver.id, t1.driver);
    assert!(!home.driver.transporter_id.is_empty() && !home.driver.phone.is_empty());
    assert!(home.driver.is_online && !home.driver.is_on_trip);
    assert_eq!(home.driver.total_trips, 1);
    let s = &home.stats;
    assert_eq!((s.today_trips, s.total_trips), (1, 1));
    assert_eq!(
        (s.today_earnings, s.week_earnings, s.month_earnings),
        (24000.0, 24000.0, 24000.0)
    );
    assert_eq!((s.today_distance, s.total_distance), (150.0, 150.0));
    assert_eq!(s.acceptance_rate, 100.0);
    assert_eq!((s.rating, s.total_ratings), (0.0, 0));
    assert!(home.active_trip.is_none());
    let last = &home.recent_trips[0];
    assert_eq!(
        (last.id.as_str(), last.status.as_str()),
        (trip, "completed")
    );
    assert_eq!((last.fare, last.distance_km), (24000.0, 150.0));
    assert_eq!(last.pickup.address, "Andheri East, Mumbai");
    assert!(last.pickup.latitude > 19.0 && last.drop.longitude > 73.0);

    let (status, body) = app
        .get_as("driver/earnings?period=today", &t1.driver_token)
        .await;
    let today: EarningsResponseData = data(status, &body);
    assert_eq!(today.period, "today");
    assert_eq!((today.total_earnings, today.total_trips), (24000.0, 1));
    assert_eq!(today.average_per_trip, 24000.0);
    assert_eq!(today.breakdown.len(), 1);
    let day = &today.breakdown[0];
    assert_eq!((day.earnings, day.trips, day.distance), (24000.0, 1, 150.0));
    assert_eq!(day.date.len(), 10, "an ISO date: {}", day.date);

    // The transporter reads the same of its driver, and nothing of another
    // fleet's.
    let path = format!("driver/performance?driverId={}", t1.driver);
    let (status, body) = app.get_as(&path, &t1.token).await;
    let seen: PerformanceResponseData = data(status, &body);
    assert_eq!((seen.acceptance_rate, seen.completion_rate), (100.0, 100.0));
    assert_eq!((seen.total_trips, seen.total_distance), (1, 150.0));
    assert_eq!((seen.rating, seen.total_ratings), (0.0, 0));
    let (status, body) = app.get_as(&path, &t2.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "DRIVER_NOT_FOUND");
    let (status, body) = app
        .get_as(
            &format!("driver/earnings?driverId={}", t2.driver),
            &t1.driver_token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a driver sees only its own");
    assert_error(&body, "DRIVER_NOT_FOUND");

    // The transporter's Trips tab: its whole fleet, or one driver.
    let (status, body) = app.get_as("driver/trips", &t1.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["total"], 1);
    assert_eq!(body["data"]["trips"][0]["id"], trip);
    let (_, other) = app.get_as("driver/trips", &t2.token).await;
    assert_eq!(other["data"]["total"], 0);
    let row = drivers_row(&app, &t1.token, &t1.driver).await;
    assert_eq!(
        (row["isOnTrip"].clone(), row["totalTrips"].clone()),
        (json!(false), json!(1))
    );
}

#[tokio::test]
async fn figures_refuse_bad_input_and_the_wrong_callers() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    for (path, token, status, code) in [
        (
            "driver/earnings?period=year",
            &t1.driver_token,
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            "driver/earnings?driverId=nope",
            &t1.token,
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            "driver/performance",
            &t1.token,
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            "driver/performance",
            &customer,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            "driver/dashboard",
            &t1.token,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            "driver/trips",
            &customer,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
    ] {
        let (got, body) = app.get_as(path, token).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_error(&body, code);
    }
    // A driver with nothing yet reads zeros, not an error.
    let (status, body) = app
        .get_as("driver/earnings?period=week", &t1.driver_token)
        .await;
    let none: EarningsResponseData = data(status, &body);
    assert_eq!(
        (none.total_trips, none.total_earnings, none.breakdown.len()),
        (0, 0.0, 0)
    );
}
