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

/// A one-line order of two open 17 ft trucks, Mumbai to Pune (150 km), at
/// `price` per truck, with `quote` when given.
fn order_at(price: i64, quote: Option<&str>) -> serde_json::Value {
    json!({
        "pickup": { "latitude": 19.0760, "longitude": 72.8777, "address": "Andheri East, Mumbai", "city": "Mumbai" },
        "drop": { "latitude": 18.5204, "longitude": 73.8567, "address": "Hadapsar, Pune", "city": "Pune" },
        "distanceKm": 150,
        "vehicleRequirements": [
            { "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2, "pricePerTruck": price, "quoteToken": quote }
        ],
        "goodsType": "General"
    })
}

/// The server's quote for [`order_at`]'s line now: (price, token).
#[expect(clippy::unwrap_used, reason = "a test helper: a panic fails the test")]
async fn quote(app: &crate::helpers::TestApp) -> (i64, String) {
    let body: serde_json::Value = app
        .client
        .get(format!(
            "{}/api/v1/vehicles/pricing?vehicleType=open&vehicleSubtype=17%20Feet&distanceKm=150&trucksNeeded=2",
            app.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pricing: PricingData = serde_json::from_value(body["data"]["pricing"].clone()).unwrap();
    (pricing.price_per_truck, pricing.quote_token)
}

#[tokio::test]
async fn a_client_price_ten_percent_low_is_replaced_and_both_are_kept() {
    let app = spawn_app().await;
    let (server, _) = quote(&app).await;
    let low = server * 9 / 10;
    let customer = app.token("9876543210", "customer").await;
    let (status, created) = app
        .create_order(&customer, "key-1", &order_at(low, None))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let data = &created["data"];
    assert_eq!(data["order"]["totalAmount"], server * 2);
    assert_eq!(data["truckRequests"][0]["pricePerTruck"], server);
    assert_eq!(data["truckRequests"][0]["clientPricePerTruck"], low);
    assert_eq!(data["truckRequests"][0]["serverPricePerTruck"], server);
    let check = &data["priceCheck"];
    assert_eq!(check["adjusted"], true, "{check}");
    assert_eq!(check["clientTotalAmount"], low * 2);
    assert_eq!(check["lines"][0]["source"], "rate_card");
    assert_eq!(
        app.count_rows(&format!(
            "truck_requests WHERE price_per_truck = {server} \
             AND client_price_per_truck = {low} AND server_price_per_truck = {server}"
        ))
        .await,
        2,
        "each truck keeps both prices"
    );
    assert_eq!(
        app.count_rows(&format!("orders WHERE total_amount = {}", server * 2))
            .await,
        1
    );
}

#[tokio::test]
async fn a_client_price_within_five_percent_or_above_stands() {
    let app = spawn_app().await;
    let (server, _) = quote(&app).await;
    for (n, offered) in [server * 97 / 100, server + 1_000].into_iter().enumerate() {
        let customer = app.token(&format!("987654321{n}"), "customer").await;
        let (status, created) = app
            .create_order(&customer, "key-1", &order_at(offered, None))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let data = &created["data"];
        assert_eq!(data["truckRequests"][0]["pricePerTruck"], offered);
        assert_eq!(data["truckRequests"][0]["serverPricePerTruck"], server);
        assert_eq!(data["priceCheck"]["adjusted"], false);
        assert_eq!(data["order"]["totalAmount"], offered * 2);
    }
}

#[tokio::test]
async fn a_quote_is_honoured_until_it_expires_and_a_tampered_one_is_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let app = spawn_app().await;
    let (price, token) = quote(&app).await;

    // The price inside the quote changed: refused, nothing written, and a
    // fresh quote in the answer.
    let (payload, signature) = token.split_once('.').unwrap();
    let mut terms: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    terms["pricePerTruck"] = json!(1);
    let forged = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(terms.to_string()));
    let customer = app.token("9876543210", "customer").await;
    let (status, refused) = app
        .create_order(&customer, "key-1", &order_at(1, Some(&forged)))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_error(&refused, "PRICE_STALE");
    assert_eq!(refused["error"]["details"]["reason"], "invalid");
    assert_eq!(
        refused["error"]["details"]["field"],
        "vehicleRequirements[0].quoteToken"
    );
    let fresh: PricingData =
        serde_json::from_value(refused["error"]["details"]["pricing"].clone()).unwrap();
    assert_eq!(fresh.price_per_truck, price);
    assert_eq!(app.count_rows("orders").await, 0);
    assert_eq!(app.count_rows("idempotency_keys").await, 0);

    // Past its five minutes the quote no longer holds.
    app.clock.advance(chrono::Duration::seconds(301));
    let (status, expired) = app
        .create_order(&customer, "key-2", &order_at(price, Some(&token)))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{expired}");
    assert_eq!(expired["error"]["details"]["reason"], "expired");
    let fresh: PricingData =
        serde_json::from_value(expired["error"]["details"]["pricing"].clone()).unwrap();

    // The fresh quote is honoured: its price stands, even offered low by
    // the app, since the server promised it.
    let (status, created) = app
        .create_order(
            &customer,
            "key-3",
            &order_at(fresh.price_per_truck, Some(&fresh.quote_token)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"]["priceCheck"]["lines"][0]["source"], "quote");
    assert_eq!(
        created["data"]["order"]["totalAmount"],
        fresh.price_per_truck * 2
    );

    // A retry of the created order after its quote expired keeps its answer.
    app.clock.advance(chrono::Duration::seconds(301));
    let (status, replayed) = app
        .create_order(
            &customer,
            "key-3",
            &order_at(fresh.price_per_truck, Some(&fresh.quote_token)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{replayed}");
    assert_eq!(replayed["data"]["orderId"], created["data"]["orderId"]);
}

#[tokio::test]
async fn a_quote_for_another_trip_is_refused() {
    let app = spawn_app().await;
    let (price, token) = quote(&app).await;
    let customer = app.token("9876543210", "customer").await;
    let mut longer = order_at(price, Some(&token));
    longer["distanceKm"] = json!(400);
    let (status, refused) = app.create_order(&customer, "key-1", &longer).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["details"]["reason"], "mismatch");
    let fresh = &refused["error"]["details"]["pricing"];
    assert_eq!(fresh["distanceKm"], 400.0);
    assert!(fresh["pricePerTruck"].as_i64().unwrap() > price);
    assert_eq!(app.count_rows("orders").await, 0);
}
