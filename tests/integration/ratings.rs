//! Ratings end to end, read the way the customer app reads them: the trips
//! still to rate after `booking_completed`, one rating per completed trip
//! (a repeat answered as the first, a different one refused), the bad
//! inputs that write nothing, and the driver's average everywhere it shows.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::dispatch::{Fleet, fleet_at, one_truck, take_one};
use crate::helpers::{TestApp, assert_error, spawn_app};
use crate::orders::outbox_of;
use crate::trips::set_status;

/// `rating/pending`'s items as the app's DTO names them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PendingRating {
    assignment_id: String,
    trip_id: String,
    driver_name: String,
    vehicle_number: String,
    booking_id: String,
}

/// `POST rating`'s answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rated {
    rating_id: String,
    stars: i64,
    driver_avg_rating: f64,
    message: String,
    idempotent: bool,
}

async fn rate(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, "rating", Some(token), Some(body))
        .await
}

/// A one-truck order taken by `fleet` whose driver accepts: (customer
/// token, order id, assignment, trip).
async fn accepted_trip(app: &TestApp, fleet: &Fleet) -> (String, String, String, String) {
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app.create_order(&customer, "key-1", &one_truck()).await;
    let order = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    let made = take_one(app, fleet, &order).await;
    let assignment = made["assignmentIds"][0].as_str().unwrap().to_owned();
    let trip = made["tripIds"][0].as_str().unwrap().to_owned();
    app.call(
        Method::PATCH,
        &format!("assignments/{assignment}/accept"),
        Some(&fleet.driver_token),
        None,
    )
    .await;
    (customer, order, assignment, trip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_trip_is_rated_once_and_the_drivers_average_follows() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (customer, order, assignment, trip) = accepted_trip(&app, &t1).await;
    let good = json!({ "assignmentId": assignment, "stars": 4, "tags": ["polite", "on_time", "polite"], "comment": "<b>Great</b>   driver" });

    let (status, body) = rate(&app, &customer, good.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "TRIP_NOT_COMPLETED");
    for word in ["at_pickup", "loading_complete", "in_transit", "completed"] {
        set_status(&app, &t1.driver_token, &trip, word).await;
    }

    let (status, body) = app.get_as("rating/pending", &customer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pending: Vec<PendingRating> = serde_json::from_value(body["data"].clone()).unwrap();
    assert_eq!(pending.len(), 1, "a bare array of the trips to rate");
    let first = &pending[0];
    assert_eq!(
        (first.assignment_id.as_str(), first.trip_id.as_str()),
        (assignment.as_str(), trip.as_str())
    );
    assert_eq!(
        (first.driver_name.as_str(), first.booking_id.as_str()),
        ("Driver 1", order.as_str())
    );
    assert!(!first.vehicle_number.is_empty());

    // Bad input is 400 and writes nothing; someone else's trip is not found.
    let too_long = "x".repeat(501);
    for (bad, field) in [
        (json!({ "assignmentId": assignment, "stars": 0 }), "stars"),
        (json!({ "assignmentId": assignment, "stars": 6 }), "stars"),
        (
            json!({ "assignmentId": assignment, "stars": 5, "tags": ["fast"] }),
            "tags",
        ),
        (
            json!({ "assignmentId": assignment, "stars": 5, "tags": ["polite", "on_time", "safe_driving", "professional", "helpful", "late"] }),
            "tags",
        ),
        (
            json!({ "assignmentId": assignment, "stars": 5, "comment": too_long }),
            "comment",
        ),
    ] {
        let (status, body) = rate(&app, &customer, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
    let stranger = app.token("9876543299", "customer").await;
    let (status, body) = rate(&app, &stranger, good.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "ASSIGNMENT_NOT_FOUND");
    let (status, _) = rate(&app, &t1.token, good.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers rate");
    assert_eq!(app.count_rows("ratings").await, 0);

    let (status, body) = rate(&app, &customer, good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rated: Rated = serde_json::from_value(body["data"].clone()).unwrap();
    assert_eq!(
        (rated.stars, rated.driver_avg_rating, rated.idempotent),
        (4, 4.0, false)
    );
    assert!(!rated.rating_id.is_empty() && !rated.message.is_empty());
    assert_eq!(body["data"]["tags"], json!(["polite", "on_time"]));
    assert_eq!(body["data"]["comment"], "Great driver", "markup stripped");

    let (status, again) = rate(&app, &customer, good).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["data"]["idempotent"], true);
    assert_eq!(again["data"]["ratingId"], rated.rating_id.as_str());
    let (status, other) = rate(
        &app,
        &customer,
        json!({ "assignmentId": assignment, "stars": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&other, "ALREADY_RATED");
    assert_eq!(app.count_rows("ratings").await, 1);

    let (_, body) = app.get_as("rating/pending", &customer).await;
    assert_eq!(body["data"], json!([]));
    let (_, history) = app.get_as("bookings", &customer).await;
    let booking = &history["data"]["bookings"][0];
    assert_eq!(
        (
            booking["isRated"].clone(),
            booking["hasUnratedTrips"].clone()
        ),
        (json!(true), json!(false))
    );
    let path = format!("driver/performance?driverId={}", t1.driver);
    let (_, seen) = app.get_as(&path, &t1.token).await;
    assert_eq!(
        (
            seen["data"]["rating"].clone(),
            seen["data"]["totalRatings"].clone()
        ),
        (json!(4.0), json!(1))
    );
    let (_, list) = app.get_as("driver/list", &t1.token).await;
    assert_eq!(list["data"]["drivers"][0]["rating"], 4.0);
    let (_, trucks) = app
        .get_as(&format!("bookings/{order}/trucks"), &customer)
        .await;
    let truck = &trucks["data"]["trucks"][0];
    assert_eq!(
        (
            truck["driverRating"].clone(),
            truck["driverTotalRatings"].clone()
        ),
        (json!(4.0), json!(1))
    );
    let told: Vec<Vec<String>> = outbox_of(&app, &order)
        .await
        .into_iter()
        .filter(|(topic, _)| topic == "driver_rating_updated")
        .map(|(_, rooms)| rooms)
        .collect();
    assert_eq!(told.len(), 1);
    assert!(
        told[0].contains(&format!("driver:{}", t1.driver)),
        "{told:?}"
    );
}

#[tokio::test]
async fn a_completed_unrated_trip_shows_in_the_history_as_to_rate() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (customer, _, _, trip) = accepted_trip(&app, &t1).await;
    for word in ["at_pickup", "loading_complete", "in_transit", "completed"] {
        set_status(&app, &t1.driver_token, &trip, word).await;
    }
    let (_, history) = app.get_as("bookings", &customer).await;
    let booking = &history["data"]["bookings"][0];
    assert_eq!(
        (
            booking["isRated"].clone(),
            booking["hasUnratedTrips"].clone()
        ),
        (json!(false), json!(true))
    );
}
