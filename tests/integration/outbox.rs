//! The relay's claim on the outbox: oldest first, marked published in the
//! same statement, skipped by another relay while locked, and claimable
//! again when the claiming transaction does not commit.

use chrono::Utc;
use diesel_async::SimpleAsyncConnection;
use serde_json::json;
use weelo_persistence::outbox::{self, NewEvent};
use weelo_test_support::TestDb;

fn event(n: i64) -> NewEvent {
    NewEvent {
        topic: "order_expired",
        recipients: vec![format!("customer:{n}")],
        payload: json!({ "n": n }),
        order_id: None,
    }
}

#[tokio::test]
async fn a_claim_takes_the_oldest_events_once_and_a_claim_that_rolls_back_leaves_them() {
    let db = TestDb::new().await.unwrap();
    let (mut first, mut second) = (db.connect().await.unwrap(), db.connect().await.unwrap());
    let now = Utc::now();
    let ids = outbox::append(&mut first, &[event(1), event(2), event(3)], now)
        .await
        .unwrap();
    let claimed_ids =
        |events: &[outbox::StoredEvent]| events.iter().map(|e| e.id).collect::<Vec<_>>();

    first.batch_execute("BEGIN").await.unwrap();
    let taken = outbox::claim_unpublished(&mut first, 2, now).await.unwrap();
    assert_eq!(claimed_ids(&taken), ids[..2], "the two oldest, in order");
    assert_eq!(taken[1].payload, json!({ "n": 2 }));
    let rest = outbox::claim_unpublished(&mut second, 10, now)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&rest), ids[2..], "locked events are skipped");

    first.batch_execute("ROLLBACK").await.unwrap();
    let again = outbox::claim_unpublished(&mut second, 10, now)
        .await
        .unwrap();
    assert_eq!(
        claimed_ids(&again),
        ids[..2],
        "not committed: claimable again"
    );
    assert!(
        outbox::claim_unpublished(&mut second, 10, now)
            .await
            .unwrap()
            .is_empty(),
        "each event is claimed once"
    );
}
