//! Prices from the server: `GET vehicles/pricing` exactly as the customer
//! app calls it (no token), `POST pricing/estimate`, what each answer
//! carries (the app's `PricingData` fields and a signed quote), and bad
//! input refused.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

/// What the app reads (`data.pricing`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PricingData {
    price_per_truck: i64,
    total_amount: i64,
    base_price: f64,
    distance_charge: f64,
    surge_multiplier: f64,
    distance_slab: String,
    valid_for_minutes: i64,
    quote_token: String,
}

#[tokio::test]
async fn the_app_gets_a_price_without_logging_in_and_the_subtype_counts() {
    let app = spawn_app().await;
    let path = |subtype: &str| {
        format!(
            "{}/api/v1/vehicles/pricing?vehicleType=open&vehicleSubtype={subtype}&distanceKm=150&trucksNeeded=2",
            app.address
        )
    };
    let answer = app.client.get(path("17%20Feet")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: serde_json::Value = answer.json().await.unwrap();
    let base: PricingData = serde_json::from_value(body["data"]["pricing"].clone()).unwrap();
    assert_eq!(base.total_amount, base.price_per_truck * 2);
    assert_eq!(base.base_price, 1500.0);
    assert!(base.distance_charge > 0.0 && base.valid_for_minutes == 5);
    assert_eq!(base.distance_slab, "regional");
    assert!(base.surge_multiplier >= 1.0);
    assert!(base.quote_token.contains('.'));
    let bigger: serde_json::Value = app
        .client
        .get(path("24%20Feet"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bigger = bigger["data"]["pricing"]["pricePerTruck"].as_i64().unwrap();
    let expected = (base.price_per_truck as f64 * 1.35).round() as i64;
    assert!(
        (bigger - expected).abs() <= 1,
        "the 24 ft multiplier: {bigger} vs {expected}"
    );

    let customer = app.token("9876543210", "customer").await;
    let (status, estimated) = app
        .call(
            Method::POST,
            "pricing/estimate",
            Some(&customer),
            Some(json!({ "vehicleType": "open", "vehicleSubtype": "17 Feet", "distanceKm": 150, "trucksNeeded": 2 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{estimated}");
    assert_eq!(
        estimated["data"]["pricing"]["pricePerTruck"],
        base.price_per_truck
    );
}

#[tokio::test]
async fn a_bad_price_request_names_its_field() {
    let app = spawn_app().await;
    for (query, field) in [
        ("distanceKm=10", "vehicleType"),
        ("vehicleType=open", "distanceKm"),
        ("vehicleType=rocket&distanceKm=10", "vehicleType"),
    ] {
        let body: serde_json::Value = app
            .client
            .get(format!("{}/api/v1/vehicles/pricing?{query}", app.address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_error(&body, "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"]["field"], field, "{query}: {body}");
    }
    let response = app
        .client
        .get(format!(
            "{}/api/v1/vehicles/pricing?vehicleType=open&distanceKm=-5",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
