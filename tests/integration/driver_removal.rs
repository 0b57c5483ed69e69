//! A transporter removing a driver (`DELETE profile/drivers/{id}`, the
//! captain app's call): the driver's sessions end, its phone and details
//! are erased (the number can be onboarded again), its documents' rows and
//! objects are deleted and the fleet hears `driver_deleted`; a driver with
//! a trip is refused, and another fleet's driver is not found.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::dispatch::{fleet_at, one_truck, take_one};
use crate::documents::{driver_with_documents, stored};
use crate::helpers::{TestApp, assert_error, spawn_app};

async fn remove(app: &TestApp, transporter: &str, driver: &str) -> (StatusCode, Value) {
    app.call(
        Method::DELETE,
        &format!("profile/drivers/{driver}"),
        Some(transporter),
        None,
    )
    .await
}

#[tokio::test]
async fn a_removed_driver_is_erased_with_its_documents_and_its_phone_is_free_again() {
    let app = spawn_app().await;
    let (transporter, driver_id, driver) = driver_with_documents(&app).await;
    assert_eq!(stored(app.objects.path()).len(), 5);

    let other = app.token("9876500009", "transporter").await;
    let (status, body) = remove(&app, &other, &driver_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "DRIVER_NOT_FOUND");
    assert_eq!(stored(app.objects.path()).len(), 5, "nothing removed");

    let (status, body) = remove(&app, &transporter, &driver_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["removed"], true);
    assert_eq!(body["data"]["documentsDeleted"], 3);
    assert_eq!(body["data"]["driverStats"]["total"], 0, "{body}");

    // Objects and rows gone; the account off, its phone and licence erased.
    assert!(stored(app.objects.path()).is_empty());
    assert_eq!(app.count_rows("documents").await, 0);
    assert_eq!(
        app.count_rows(&format!(
            "users WHERE id = '{driver_id}' AND NOT is_active AND phone = 'removed:{driver_id}' \
             AND license_number IS NULL AND address IS NULL"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count_rows("sessions WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE role = 'driver')")
            .await,
        0
    );
    assert_eq!(
        app.count_rows("outbox WHERE topic = 'driver_deleted'")
            .await,
        1
    );

    // The driver's token no longer works; the list no longer shows it.
    let (status, body) = app.get_as("driver/profile", &driver).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, list) = app.get_as("driver/list", &transporter).await;
    assert_eq!(list["data"]["total"], 0, "{list}");

    // Removing again: not found. The phone can join another fleet (once
    // the onboarding OTP's resend cooldown has passed).
    let (status, _) = remove(&app, &transporter, &driver_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.clock.advance(chrono::Duration::seconds(31));
    let rejoined = app.onboard_driver(&other, "9876500002", "Ravi").await;
    assert_ne!(rejoined["id"].as_str().unwrap(), driver_id);
}

#[tokio::test]
async fn a_driver_with_a_trip_offered_cannot_be_removed() {
    let app = spawn_app().await;
    let fleet = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (status, order) = app.create_order(&customer, "key-1", &one_truck()).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order_id = order["data"]["order"]["id"].as_str().unwrap();
    take_one(&app, &fleet, order_id).await;

    let (status, body) = remove(&app, &fleet.token, &fleet.driver).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "DRIVER_ON_TRIP");
    assert_eq!(
        app.count_rows(&format!(
            "users WHERE id = '{}' AND is_active",
            fleet.driver
        ))
        .await,
        1,
        "the refusal changed nothing"
    );
    let (status, _) = app.get_as("driver/profile", &fleet.driver_token).await;
    assert_eq!(status, StatusCode::OK);
}
