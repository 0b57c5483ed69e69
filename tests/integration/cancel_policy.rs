//! The cancel policy end to end: the preview and the cancel price the stage
//! the trucks have reached (free while searching; ₹50 with a driver
//! assigned; a reason and ₹100 or the waiting charges at the pickup; 30 %
//! of the fares once loaded; a dispute only with a truck on the road), each
//! cancel writes its ledger row, and a penalty due shows in the pending
//! settlements.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::dispatch::{Fleet, fleet_at, one_truck, take_one, two_trucks};
use crate::helpers::{TestApp, assert_error, spawn_app};
use crate::trips::set_status;

/// A one-truck order taken by `fleet` (its driver answers if `accept`):
/// (customer, order id, trip id).
pub(crate) async fn taken(app: &TestApp, fleet: &Fleet, accept: bool) -> (String, String, String) {
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app.create_order(&customer, "key-1", &one_truck()).await;
    let order = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    let made = take_one(app, fleet, &order).await;
    if accept {
        let assignment = made["assignmentIds"][0].as_str().unwrap();
        app.call(
            Method::PATCH,
            &format!("assignments/{assignment}/accept"),
            Some(&fleet.driver_token),
            None,
        )
        .await;
    }
    (
        customer,
        order,
        made["tripIds"][0].as_str().unwrap().to_owned(),
    )
}

async fn preview(app: &TestApp, customer: &str, order: &str) -> Value {
    let (status, body) = app
        .get_as(&format!("bookings/orders/{order}/cancel-preview"), customer)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

async fn cancel(app: &TestApp, customer: &str, order: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("bookings/orders/{order}/cancel"),
        Some(customer),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_cancel_with_a_driver_assigned_costs_50_and_is_owed_until_settled() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (customer, order, _) = taken(&app, &t1, false).await;
    let seen = preview(&app, &customer, &order).await;
    assert_eq!(seen["cancelDecision"], "allowed_with_penalty", "{seen}");
    assert_eq!(
        (
            seen["policyStage"].clone(),
            seen["pendingPenaltyAmount"].clone()
        ),
        (json!("driver_assigned"), json!(50))
    );
    assert_eq!(
        app.count_rows("cancellations").await,
        0,
        "a preview writes nothing"
    );

    let (status, done) = cancel(
        &app,
        &customer,
        &order,
        json!({ "reason": "Change of plans" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let data = &done["data"];
    assert_eq!(
        (data["status"].clone(), data["pendingPenaltyAmount"].clone()),
        (json!("cancelled"), json!(50))
    );
    assert_eq!(data["settlementState"], "pending");
    assert_eq!(
        data["driverCompensationBreakdown"][0]["driverId"],
        t1.driver.as_str()
    );
    assert_eq!(data["driverCompensationBreakdown"][0]["amount"], 50);
    assert_eq!(
        app.count_rows("cancellations WHERE settlement_state = 'pending' AND penalty_amount = 50")
            .await,
        1
    );

    let (status, due) = app.get_as("orders/pending-settlements", &customer).await;
    assert_eq!(status, StatusCode::OK, "{due}");
    assert_eq!(
        (
            due["data"]["totalPending"].clone(),
            due["data"]["count"].clone()
        ),
        (json!(50), json!(1))
    );
    assert_eq!(due["data"]["items"][0]["orderId"], order.as_str());

    // The next order shows what is still owed.
    let (status, next) = app.create_order(&customer, "key-2", &one_truck()).await;
    assert_eq!(status, StatusCode::CREATED, "{next}");
    assert_eq!(
        next["data"]["pendingSettlement"],
        json!({ "totalPending": 50, "count": 1 })
    );
}

#[tokio::test]
async fn at_the_pickup_a_reason_is_required_and_waiting_is_charged() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (customer, order, trip) = taken(&app, &t1, true).await;
    set_status(&app, &t1.driver_token, &trip, "at_pickup").await;
    let seen = preview(&app, &customer, &order).await;
    assert_eq!(
        (
            seen["reasonRequired"].clone(),
            seen["pendingPenaltyAmount"].clone()
        ),
        (json!(true), json!(100))
    );

    let (status, refused) = cancel(&app, &customer, &order, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["details"]["field"], "reason");
    assert_eq!(
        app.count_rows("orders WHERE status = 'cancelled'").await,
        0,
        "nothing changed"
    );
    assert_eq!(app.count_rows("cancellations").await, 0);

    // 45 minutes at the pickup: 40 paid minutes at ₹5.
    app.clock.advance(Duration::minutes(45));
    let (status, done) = cancel(
        &app,
        &customer,
        &order,
        json!({ "reason": "Driver too late" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["data"]["pendingPenaltyAmount"], 200);
    assert_eq!(done["data"]["penaltyBreakdown"]["waiting_charges"], 200);
}

#[tokio::test]
async fn once_loaded_the_fare_share_is_charged() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (customer, order, trip) = taken(&app, &t1, true).await;
    for word in ["at_pickup", "loading_complete"] {
        set_status(&app, &t1.driver_token, &trip, word).await;
    }
    let seen = preview(&app, &customer, &order).await;
    assert_eq!(seen["policyStage"], "loading_started");
    assert_eq!(seen["pendingPenaltyAmount"], 7200, "30 % of ₹24 000");
    assert_eq!(seen["driverCompensationTotal"], 3600, "15 %");
}

#[tokio::test]
async fn with_a_truck_on_the_road_only_a_dispute_is_open() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (customer, order, trip) = taken(&app, &t1, true).await;
    for word in ["at_pickup", "loading_complete", "in_transit"] {
        set_status(&app, &t1.driver_token, &trip, word).await;
    }
    let seen = preview(&app, &customer, &order).await;
    assert_eq!(seen["cancelDecision"], "blocked_dispute_only", "{seen}");
    let (status, body) = cancel(&app, &customer, &order, json!({ "reason": "too slow" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "CANCEL_BLOCKED");

    let (status, opened) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{order}/cancel/dispute"),
            Some(&customer),
            Some(json!({ "reasonCode": "delay", "notes": "Two hours late" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["data"]["stage"], "in_transit");
    let id = opened["data"]["disputeId"].as_str().unwrap().to_owned();
    let (_, listed) = app
        .get_as(&format!("orders/{order}/disputes"), &customer)
        .await;
    assert_eq!(listed["data"]["disputes"][0]["disputeId"], id.as_str());
    assert_eq!(listed["data"]["disputes"][0]["notes"], "Two hours late");

    let stranger = app.token("9876543299", "customer").await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("orders/{order}/cancel/dispute"),
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(app.count_rows("disputes").await, 1);
}

#[tokio::test]
async fn a_searching_order_cancels_free_and_owes_nothing() {
    let app = spawn_app().await;
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    let seen = preview(&app, &customer, &order).await;
    assert_eq!(
        (
            seen["cancelDecision"].clone(),
            seen["pendingPenaltyAmount"].clone()
        ),
        (json!("allowed"), json!(0))
    );
    let (status, done) = cancel(&app, &customer, &order, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["data"]["settlementState"], "none");
    assert_eq!(
        app.count_rows("cancellations WHERE settlement_state = 'none'")
            .await,
        1
    );
    let (_, due) = app.get_as("orders/pending-settlements", &customer).await;
    assert_eq!(due["data"]["totalPending"], 0);
    let (_, next) = app.create_order(&customer, "key-2", &two_trucks()).await;
    assert_eq!(
        next["data"]["pendingSettlement"],
        json!({ "totalPending": 0, "count": 0 })
    );
}
