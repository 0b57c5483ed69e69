//! The delivery sequence: the relay numbers committed events in commit
//! order, one relay at a time, from a sequence that never gives a number
//! twice; replays page by it, so an event whose transaction committed after
//! a later-inserted one is never skipped.

use chrono::Utc;
use diesel_async::SimpleAsyncConnection;
use serde_json::json;
use weelo_persistence::outbox::{self, NewEvent, StoredEvent};
use weelo_test_support::TestDb;

const ROOM: &str = "transporter:t";

fn event(n: i64) -> NewEvent {
    NewEvent {
        topic: "new_broadcast",
        recipients: vec![ROOM.to_owned()],
        payload: json!({ "n": n }),
        order_id: None,
        push_to: Vec::new(),
    }
}

fn numbers(events: &[StoredEvent]) -> Vec<(i64, i64)> {
    events.iter().map(|e| (e.id, e.sequence())).collect()
}

#[tokio::test]
async fn an_event_that_commits_late_is_numbered_after_and_a_replay_from_the_first_gets_it() {
    let db = TestDb::new().await.unwrap();
    let (mut late, mut early, mut relay) = (
        db.connect().await.unwrap(),
        db.connect().await.unwrap(),
        db.connect().await.unwrap(),
    );
    let now = Utc::now();
    late.batch_execute("BEGIN").await.unwrap();
    let late_id = outbox::append(&mut late, &[event(1)], now).await.unwrap()[0];
    let early_id = outbox::append(&mut early, &[event(2)], now).await.unwrap()[0];
    assert!(late_id < early_id, "ids are taken at insert");

    let first = outbox::number_new(&mut relay, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, early_id);
    let seen = first[0].sequence();
    // A client saw the early event and replays from it; the late one is
    // not numbered yet, so no replay can pass it by.
    assert!(
        outbox::for_room_after(&mut relay, ROOM, seen, 10, &[])
            .await
            .unwrap()
            .is_empty()
    );

    late.batch_execute("COMMIT").await.unwrap();
    let second = outbox::number_new(&mut relay, 10).await.unwrap();

    assert_eq!(numbers(&second), vec![(late_id, seen + 1)]);
    let replayed = outbox::for_room_after(&mut relay, ROOM, seen, 10, &[])
        .await
        .unwrap();
    assert_eq!(numbers(&replayed), vec![(late_id, seen + 1)]);
    assert_eq!(replayed[0].payload, json!({ "n": 1 }));
}

#[tokio::test]
async fn relays_number_one_after_the_other_and_a_rolled_back_numbering_leaves_the_events() {
    let db = TestDb::new().await.unwrap();
    let (mut first, mut second) = (db.connect().await.unwrap(), db.connect().await.unwrap());
    let now = Utc::now();
    let ids = outbox::append(&mut first, &[event(1), event(2), event(3)], now)
        .await
        .unwrap();

    first.batch_execute("BEGIN").await.unwrap();
    let taken = outbox::number_new(&mut first, 2).await.unwrap();
    assert_eq!(taken.iter().map(|e| e.id).collect::<Vec<_>>(), ids[..2]);
    first.batch_execute("ROLLBACK").await.unwrap();
    let again = outbox::number_new(&mut second, 2).await.unwrap();
    assert_eq!(
        again.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[..2],
        "not committed: the same events are numbered again"
    );
    assert!(
        again[0].sequence() > taken[1].sequence(),
        "with numbers never given before (the first ones may have been seen)"
    );
    assert!(again[0].sequence() < again[1].sequence(), "in id order");

    // The other relay waits for the one holding the cursor, then numbers
    // only what is left, after it.
    first.batch_execute("BEGIN").await.unwrap();
    let mut late = db.connect().await.unwrap();
    outbox::append(&mut late, &[event(4)], now).await.unwrap();
    let held = outbox::number_new(&mut first, 1).await.unwrap();
    let waiting = tokio::spawn(async move { outbox::number_new(&mut second, 10).await });
    first.batch_execute("COMMIT").await.unwrap();
    let rest = waiting.await.unwrap().unwrap();
    let last_held = held[0].sequence();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].sequence() > last_held);
    assert_eq!(
        outbox::last_seq(&mut late).await.unwrap(),
        rest[0].sequence()
    );
}

#[tokio::test]
async fn numbered_events_stay_pending_until_marked_published() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = Utc::now();
    outbox::append(&mut conn, &[event(1), event(2)], now)
        .await
        .unwrap();
    let numbered = outbox::number_new(&mut conn, 10).await.unwrap();
    let seqs: Vec<i64> = numbered.iter().map(StoredEvent::sequence).collect();
    assert_eq!(outbox::claim_pending(&mut conn, 10).await.unwrap().len(), 2);

    outbox::mark_published_seqs(&mut conn, &seqs[..1], now)
        .await
        .unwrap();

    let pending = outbox::claim_pending(&mut conn, 10).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(StoredEvent::sequence)
            .collect::<Vec<_>>(),
        seqs[1..]
    );
    assert_eq!(
        outbox::numbered_after(&mut conn, seqs[0], 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
