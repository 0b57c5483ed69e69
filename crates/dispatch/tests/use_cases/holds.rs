//! Holds and confirms as use cases: who may hold, all or nothing, one
//! winner per truck.

use weelo_dispatch::assignments::{self, Answer};
use weelo_dispatch::idempotent::Keyed;
use weelo_dispatch::{ErrorCode, broadcast};
use weelo_persistence::assignments::Pair;
use weelo_persistence::orders;

use crate::harness::{Harness, NEAR, code_of, id};

#[tokio::test]
async fn only_a_transporter_the_order_was_offered_to_may_hold_it() {
    let h = Harness::start().await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    // Online after the order went out: it was never told.
    let late = h.fleet_at(1, NEAR).await;
    assert_eq!(
        code_of(h.hold(&late, order, 1).await),
        ErrorCode::NotNotified
    );
    let trucks = orders::trucks_of(&mut h.conn().await, order).await.unwrap();
    assert_eq!(trucks[0].status.as_str(), "searching");
}

#[tokio::test]
async fn a_hold_takes_trucks_and_a_second_transporter_gets_what_is_left() {
    let h = Harness::start().await;
    let first = h.fleet_at(1, NEAR).await;
    let second = h.fleet_at(2, (19.0700, 72.8700)).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    let held = h.hold(&first, order, 1).await.unwrap();
    assert_eq!(held["quantity"], 1);
    assert_eq!(held["truckRequestIds"].as_array().unwrap().len(), 1);
    let refused = h.hold(&second, order, 1).await;
    assert_eq!(code_of(refused), ErrorCode::NotEnoughAvailable);
    // More trucks than the fleet has free vehicles for is refused too.
    let order2 = h.order(h.customer("9876543211").await, 2).await;
    assert_eq!(
        code_of(h.hold(&second, order2, 2).await),
        ErrorCode::NotEnoughVehicles
    );
}

#[tokio::test]
async fn a_declined_broadcast_cannot_be_held() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    broadcast::decline(&h.dispatch, fleet.transporter, order)
        .await
        .unwrap();
    assert_eq!(
        code_of(h.hold(&fleet, order, 1).await),
        ErrorCode::BroadcastDeclined
    );
    let feed = broadcast::feed(&h.dispatch, fleet.transporter)
        .await
        .unwrap();
    assert!(feed.is_empty(), "a declined order leaves the feed");
}

#[tokio::test]
async fn a_confirm_assigns_the_truck_and_tells_the_driver() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    let confirmed = h.take_one(&fleet, order).await;
    let assignment = confirmed["assignmentIds"][0]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored = weelo_persistence::assignments::find(&mut h.conn().await, assignment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "pending");
    assert_eq!(stored.driver_id, fleet.driver);
    assert_eq!(stored.vehicle_id, fleet.vehicle);
    assert_eq!(
        h.events_to(order, &format!("driver:{}", fleet.driver))
            .await,
        vec!["trip_assigned"]
    );
    let stored_order = orders::find(&mut h.conn().await, order)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored_order.trucks_filled, 1);
}

#[tokio::test]
async fn a_hold_confirms_once() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 2).await;
    let held = h.hold(&fleet, order, 1).await.unwrap();
    let hold_id = id(&held, "holdId");
    let pair = Pair {
        vehicle_id: fleet.vehicle,
        driver_id: fleet.driver,
    };
    let first = assignments::confirm(&h.dispatch, fleet.transporter, hold_id, &[pair], None)
        .await
        .unwrap();
    assert!(matches!(first, Answer::Done(_)));
    let again = assignments::confirm(&h.dispatch, fleet.transporter, hold_id, &[pair], None).await;
    assert_eq!(code_of(again), ErrorCode::HoldAlreadyConfirmed);
}

#[tokio::test]
async fn a_refused_keyed_change_keeps_no_key_and_the_same_key_then_goes_through_once() {
    let h = Harness::start().await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    let keyed = Keyed::new("hold", "retry-1".to_owned(), "hash-1".to_owned());
    // Online after the order went out: refused, and the refusal rolls the
    // key's claim back with it.
    let late = h.fleet_at(1, NEAR).await;
    let refused = h.hold_keyed(&late, order, 1, Some(&keyed)).await;
    assert_eq!(
        code_of(refused.map(|_| serde_json::Value::Null)),
        ErrorCode::NotNotified
    );
    let keys = "SELECT count(*) AS count FROM idempotency_keys WHERE scope = 'hold'";
    assert_eq!(h.count(keys).await, 0);

    // Told of a second order, the same key is a fresh attempt that holds.
    let order2 = h.order(h.customer("9876543211").await, 1).await;
    let events = "SELECT count(*) AS count FROM outbox";
    let before = h.count(events).await;
    let Answer::Done(held) = h.hold_keyed(&late, order2, 1, Some(&keyed)).await.unwrap() else {
        panic!("the first attempt under the key is done, not replayed");
    };
    assert_eq!(held["quantity"], 1);
    assert_eq!(h.count(keys).await, 1);
    // A retry is answered from the key and changes nothing.
    let again = h.hold_keyed(&late, order2, 1, Some(&keyed)).await.unwrap();
    assert!(matches!(again, Answer::Replay));
    let trucks = orders::trucks_of(&mut h.conn().await, order2)
        .await
        .unwrap();
    assert_eq!(trucks[0].status.as_str(), "held");
    assert_eq!(h.count(events).await, before, "a hold announces nothing");
}
