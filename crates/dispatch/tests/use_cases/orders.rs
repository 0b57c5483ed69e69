//! Create, the radius steps, cancel and expiry as use cases.

use weelo_dispatch::ErrorCode;
use weelo_dispatch::orders::{queries, service};
use weelo_persistence::orders;

use crate::harness::{Harness, NEAR, code_of, order_body};

#[tokio::test]
async fn a_created_order_is_stored_with_its_trucks_and_offered_to_the_fleet_nearby() {
    let h = Harness::start().await;
    let near = h.fleet_at(1, NEAR).await;
    let far = h.fleet_at(2, (18.5204, 73.8567)).await;
    let customer = h.customer("9876543210").await;

    let data = h.create(customer, "key-1", order_body(2)).await.unwrap();

    let order_id = data["order"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(data["broadcastSummary"]["totalTransportersNotified"], 1);
    let mut conn = h.conn().await;
    let order = orders::find(&mut conn, order_id).await.unwrap().unwrap();
    assert_eq!(order.customer_id, customer);
    assert_eq!(order.total_trucks, 2);
    assert!(order.status().is_searching());
    let trucks = orders::trucks_of(&mut conn, order_id).await.unwrap();
    assert_eq!(trucks.len(), 2);
    assert!(trucks.iter().all(|t| t.status.as_str() == "searching"));
    let to_near = h
        .events_to(order_id, &format!("transporter:{}", near.transporter))
        .await;
    assert_eq!(to_near, vec!["new_broadcast"]);
    assert!(
        h.events_to(order_id, &format!("transporter:{}", far.transporter))
            .await
            .is_empty()
    );
    // The Redis mirror has the order's status and the customer's active order.
    let keys = h.redis.keys().unwrap();
    let prefix = h.redis.prefix();
    assert!(
        keys.contains(&format!("{prefix}order-status:{order_id}")),
        "{keys:?}"
    );
    assert!(
        keys.contains(&format!("{prefix}active-order:{customer}")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn the_same_key_replays_the_first_answer_and_another_body_conflicts() {
    let h = Harness::start().await;
    let customer = h.customer("9876543210").await;
    let first = h.create(customer, "key-1", order_body(1)).await.unwrap();
    let again = h.create(customer, "key-1", order_body(1)).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        code_of(h.create(customer, "key-1", order_body(2)).await),
        ErrorCode::IdempotencyConflict
    );
    let (_, total) = orders::history(&mut h.conn().await, customer, 10, 0)
        .await
        .unwrap();
    assert_eq!(total, 1, "one order, however often it was sent");
}

#[tokio::test]
async fn a_second_order_while_one_searches_names_the_active_one() {
    let h = Harness::start().await;
    let customer = h.customer("9876543210").await;
    let first = h.order(customer, 1).await;
    let refused = h
        .create(customer, "key-2", order_body(1))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ActiveOrderExists);
    match refused {
        weelo_dispatch::DispatchError::Refused { details, .. } => {
            assert_eq!(details.unwrap()["activeOrderId"], first.to_string());
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_input_names_the_field_and_stores_nothing() {
    let h = Harness::start().await;
    let customer = h.customer("9876543210").await;
    let mut body = order_body(1);
    body["vehicleRequirements"][0]["quantity"] = 0.into();
    let refused = h.create(customer, "key-1", body).await.unwrap_err();
    match refused {
        weelo_dispatch::DispatchError::Invalid { field, .. } => {
            assert!(field.unwrap().contains("quantity"));
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
    let (_, total) = orders::history(&mut h.conn().await, customer, 10, 0)
        .await
        .unwrap();
    assert_eq!(total, 0);
}

#[tokio::test]
async fn a_farther_fleet_is_offered_the_order_when_the_radius_widens() {
    let h = Harness::start().await;
    // About 8 km from the pickup: outside the first 5 km step.
    let fleet = h.fleet_at(1, (19.1476, 72.8777)).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    let room = format!("transporter:{}", fleet.transporter);
    assert!(h.events_to(order, &room).await.is_empty());

    h.advance(9);
    let report = h.jobs.sweep_once().await.unwrap();
    assert_eq!(report.steps, 1);
    assert_eq!(h.events_to(order, &room).await, vec!["new_broadcast"]);
}

#[tokio::test]
async fn a_cancelled_order_frees_its_trucks_and_says_so_once() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 2).await;
    h.take_one(&fleet, order).await;

    let answer = service::cancel(&h.dispatch, customer, order, Some("plans changed"))
        .await
        .unwrap();
    assert_eq!(answer["status"], "cancelled");
    let mut conn = h.conn().await;
    let stored = orders::find(&mut conn, order).await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "cancelled");
    let trucks = orders::trucks_of(&mut conn, order).await.unwrap();
    assert!(
        trucks.iter().all(|t| t.status.as_str() == "cancelled"),
        "{trucks:?}"
    );
    let cancelled = h
        .events(order)
        .await
        .into_iter()
        .filter(|e| e.topic == "order_cancelled")
        .count();
    assert_eq!(cancelled, 1);
    // Again: the same state, no second event.
    service::cancel(&h.dispatch, customer, order, None)
        .await
        .unwrap();
    let again = h
        .events(order)
        .await
        .into_iter()
        .filter(|e| e.topic == "order_cancelled")
        .count();
    assert_eq!(again, 1);
    // Someone else's order does not exist for this customer.
    let stranger = h.customer("9876543211").await;
    assert_eq!(
        code_of(service::cancel(&h.dispatch, stranger, order, None).await),
        ErrorCode::OrderNotFound
    );
}

#[tokio::test]
async fn an_order_nobody_fills_expires_when_its_window_ends_and_the_customer_hears_why() {
    let h = Harness::start().await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    h.advance(59);
    assert!(h.dispatch.expiry.sweep_once().await.unwrap().is_empty());
    h.advance(2);
    let expired = h.dispatch.expiry.sweep_once().await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].reason_code, "NO_ONLINE_TRANSPORTERS");
    let status = queries::status(&h.dispatch, customer, order).await.unwrap();
    assert_eq!(status["status"], "expired");
    assert_eq!(
        h.events_to(order, &format!("customer:{customer}"))
            .await
            .last()
            .map(String::as_str),
        Some("order_expired")
    );
    // The customer may order again at once.
    h.order(customer, 1).await;
}

#[tokio::test]
async fn a_partly_filled_order_whose_window_ends_settles_for_the_customer_and_keeps_its_trucks() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 2).await;
    let confirmed = h.take_one(&fleet, order).await;
    let assignment: uuid::Uuid = confirmed["assignmentIds"][0]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    h.advance(61);
    assert_eq!(h.dispatch.expiry.sweep_once().await.unwrap().len(), 1);

    let to_customer = h.events_to(order, &format!("customer:{customer}")).await;
    assert!(
        !to_customer.iter().any(|e| e == "order_expired"),
        "the customer app would show its timeout screen: {to_customer:?}"
    );
    let settled = h
        .events(order)
        .await
        .into_iter()
        .rev()
        .find(|e| e.topic == "trucks_remaining_update")
        .unwrap();
    assert_eq!(settled.payload["trucksNeeded"], 1);
    assert_eq!(settled.payload["trucksRemaining"], 0);
    assert_eq!(
        to_customer.last().map(String::as_str),
        Some("booking_fully_filled")
    );
    let to_fleet = h
        .events_to(order, &format!("transporter:{}", fleet.transporter))
        .await;
    assert!(
        to_fleet.iter().any(|e| e == "order_expired"),
        "{to_fleet:?}"
    );
    assert!(
        to_fleet.iter().any(|e| e == "broadcast_expired"),
        "{to_fleet:?}"
    );

    // Its timeout screen's Retry cancels first: the running truck stays.
    let kept = service::cancel(&h.dispatch, customer, order, Some("retry_after_timeout"))
        .await
        .unwrap();
    assert_eq!(kept["kept"], true, "{kept}");
    let stored = weelo_persistence::assignments::find(&mut h.conn().await, assignment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "pending");
    let status = queries::status(&h.dispatch, customer, order).await.unwrap();
    assert_ne!(status["status"], "cancelled");
}
