//! Holds claim searching trucks with `FOR UPDATE SKIP LOCKED`: each truck
//! goes to one transporter however many claim at once; idempotency keys are
//! claimed once; a customer has one searching order.

use chrono::Duration;

use crate::support::now_s;
use diesel_async::SimpleAsyncConnection;
use serde_json::json;
use uuid::Uuid;
use weelo_persistence::holds::{self, NewHold, Refused};
use weelo_persistence::idempotency;
use weelo_persistence::orders::CreateRefused;
use weelo_test_support::TestDb;

use crate::support::{OPEN_17FT, order, truck_statuses, try_order, user};

fn hold_of(transporter: Uuid, order_id: Uuid, quantity: i32) -> NewHold<'static> {
    NewHold {
        transporter_id: transporter,
        order_id,
        vehicle_type: "open",
        vehicle_subtype: "17 Feet",
        vehicle_key: OPEN_17FT,
        quantity,
        expires_at: now_s() + Duration::seconds(180),
    }
}

#[tokio::test]
async fn trucks_a_transaction_is_claiming_are_skipped_by_another() {
    let db = TestDb::new().await.unwrap();
    let mut setup = db.connect().await.unwrap();
    let now = now_s();
    let customer = user(&mut setup, "9876543210", "customer").await;
    let (t1, t2) = (
        user(&mut setup, "9000000001", "transporter").await,
        user(&mut setup, "9000000002", "transporter").await,
    );
    let (placed_order, _) = order(&mut setup, customer, 3, now).await;

    let mut first = db.connect().await.unwrap();
    let mut second = db.connect().await.unwrap();
    first.batch_execute("BEGIN").await.unwrap();
    let (hold, claimed) = holds::place(&mut first, &hold_of(t1, placed_order.id, 2), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.len(), 2);
    // The first has not committed: its two rows are locked, one is free.
    second.batch_execute("BEGIN").await.unwrap();
    let refused = holds::place(&mut second, &hold_of(t2, placed_order.id, 2), now)
        .await
        .unwrap();
    assert_eq!(refused.err(), Some(Refused::NotEnough { available: 1 }));
    let (_, one) = holds::place(&mut second, &hold_of(t2, placed_order.id, 1), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(claimed.iter().all(|id| !one.contains(id)), "no truck twice");
    first.batch_execute("COMMIT").await.unwrap();
    second.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        truck_statuses(&mut setup, placed_order.id).await,
        vec!["held", "held", "held"]
    );
    assert_eq!(hold.quantity, 2);
}

#[tokio::test]
async fn asking_for_more_than_are_searching_claims_nothing() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let customer = user(&mut conn, "9876543210", "customer").await;
    let transporter = user(&mut conn, "9000000001", "transporter").await;
    let (placed_order, _) = order(&mut conn, customer, 2, now).await;
    let refused = holds::place(&mut conn, &hold_of(transporter, placed_order.id, 3), now)
        .await
        .unwrap();
    assert_eq!(refused.err(), Some(Refused::NotEnough { available: 2 }));
    assert_eq!(
        truck_statuses(&mut conn, placed_order.id).await,
        vec!["searching", "searching"]
    );
    assert!(
        holds::active_of(&mut conn, transporter, now)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_transporter_holds_one_line_of_an_order_once() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let customer = user(&mut conn, "9876543210", "customer").await;
    let transporter = user(&mut conn, "9000000001", "transporter").await;
    let (placed_order, _) = order(&mut conn, customer, 3, now).await;
    let (hold, _) = holds::place(&mut conn, &hold_of(transporter, placed_order.id, 1), now)
        .await
        .unwrap()
        .unwrap();
    match holds::place(&mut conn, &hold_of(transporter, placed_order.id, 1), now)
        .await
        .unwrap()
    {
        Err(Refused::AlreadyHolding(existing)) => assert_eq!(existing.id, hold.id),
        other => panic!("expected AlreadyHolding, got {other:?}"),
    }
    assert_eq!(
        truck_statuses(&mut conn, placed_order.id).await,
        vec!["held", "searching", "searching"]
    );
}

#[tokio::test]
async fn a_released_hold_gives_its_trucks_back_once() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let customer = user(&mut conn, "9876543210", "customer").await;
    let transporter = user(&mut conn, "9000000001", "transporter").await;
    let other = user(&mut conn, "9000000002", "transporter").await;
    let (placed_order, _) = order(&mut conn, customer, 2, now).await;
    let (hold, _) = holds::place(&mut conn, &hold_of(transporter, placed_order.id, 2), now)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !holds::release(&mut conn, other, hold.id, now)
            .await
            .unwrap(),
        "not its hold"
    );
    assert!(
        holds::release(&mut conn, transporter, hold.id, now)
            .await
            .unwrap()
    );
    assert!(
        !holds::release(&mut conn, transporter, hold.id, now)
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(
        truck_statuses(&mut conn, placed_order.id).await,
        vec!["searching", "searching"]
    );
    assert!(
        holds::active_of(&mut conn, transporter, now)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_once_and_keeps_its_answer() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let caller = user(&mut conn, "9000000001", "transporter").await;
    assert!(
        idempotency::claim(&mut conn, caller, "hold", "k1", "hash-a", now)
            .await
            .unwrap()
    );
    assert!(
        !idempotency::claim(&mut conn, caller, "hold", "k1", "hash-b", now)
            .await
            .unwrap()
    );
    // Another scope, or another user, is another key.
    assert!(
        idempotency::claim(&mut conn, caller, "confirm-hold", "k1", "h", now)
            .await
            .unwrap()
    );
    let other = user(&mut conn, "9000000002", "transporter").await;
    assert!(
        idempotency::claim(&mut conn, other, "hold", "k1", "h", now)
            .await
            .unwrap()
    );
    let answer = json!({ "holdId": "x" });
    idempotency::complete(&mut conn, caller, "hold", "k1", 200, &answer)
        .await
        .unwrap();
    let stored = idempotency::find(&mut conn, caller, "hold", "k1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.request_hash, "hash-a", "the first claim's body");
    assert_eq!(stored.response_status, 200);
    assert_eq!(stored.response_body, answer);
    assert!(
        idempotency::find(&mut conn, caller, "hold", "k2")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_customer_has_one_searching_order_and_a_key_answers_once() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let customer = user(&mut conn, "9876543210", "customer").await;
    try_order(&mut conn, customer, 1, "key-1", now)
        .await
        .unwrap();
    assert_eq!(
        try_order(&mut conn, customer, 1, "key-2", now).await.err(),
        Some(CreateRefused::ActiveOrderExists)
    );
    let another = user(&mut conn, "9876543211", "customer").await;
    // The key is the first customer's: another customer may use it.
    try_order(&mut conn, another, 1, "key-1", now)
        .await
        .unwrap();
    assert_eq!(
        try_order(&mut conn, another, 1, "key-1", now).await.err(),
        Some(CreateRefused::KeyTaken)
    );
}
