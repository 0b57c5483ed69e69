//! Push jobs at the use-case level (the logging provider, the real
//! PostgreSQL and Redis): written with their event only for users who have
//! a device token, skipped for users with a live socket, taken over by
//! another worker when the lease of one that died runs out, and the offer's
//! expiry told to the transporters it was offered to.

use weelo_dispatch::push::worker::send_due;
use weelo_orders::Clock;
use weelo_persistence::{device_tokens, push_jobs};

use crate::harness::{Harness, NEAR};

const PENDING: &str = "SELECT count(*) AS count FROM push_jobs";

fn sent(h: &Harness, kind: &str) -> u64 {
    h.dispatch
        .push
        .metrics
        .sent
        .with_label_values(&[kind])
        .get()
}

#[tokio::test]
async fn an_offer_writes_a_push_job_only_for_a_transporter_with_a_token() {
    let h = Harness::start().await;
    let with_token = h.fleet_at(1, NEAR).await;
    let without = h.fleet_at(2, NEAR).await;
    device_tokens::register(
        &mut h.conn().await,
        with_token.transporter,
        "tok-1",
        None,
        None,
    )
    .await
    .unwrap();
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    let told = h
        .events_to(order, &format!("transporter:{}", without.transporter))
        .await;
    assert!(
        told.iter().any(|e| e == "new_broadcast"),
        "both were offered it"
    );
    let jobs: i64 = h
        .count(&format!(
            "SELECT count(*) AS count FROM push_jobs WHERE user_id = '{}' AND room = 'transporter:{}'",
            with_token.transporter, with_token.transporter
        ))
        .await;
    assert_eq!(jobs, 1);
    assert_eq!(
        h.count(PENDING).await,
        1,
        "none for the one without a token"
    );

    assert_eq!(send_due(&h.dispatch).await.unwrap(), 1);
    assert_eq!(h.count(PENDING).await, 0);
    assert_eq!(sent(&h, "new_broadcast"), 1);
}

#[tokio::test]
async fn a_user_with_a_live_socket_is_not_pushed() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    device_tokens::register(&mut h.conn().await, fleet.transporter, "tok-1", None, None)
        .await
        .unwrap();
    h.dispatch.push.live.arrived(fleet.transporter).await;
    let customer = h.customer("9876543210").await;
    h.order(customer, 1).await;
    assert_eq!(send_due(&h.dispatch).await.unwrap(), 1);
    assert_eq!(h.count(PENDING).await, 0);
    assert_eq!(sent(&h, "new_broadcast"), 0);
    let skipped = h
        .dispatch
        .push
        .metrics
        .skipped
        .with_label_values(&["live_socket"])
        .get();
    assert_eq!(skipped, 1);

    h.dispatch
        .push
        .live
        .left(fleet.transporter, &h.dispatch.supervisor);
    let mut gone = false;
    for _ in 0..100 {
        let live = h.dispatch.push.live.live(&[fleet.transporter]).await;
        if live == Some(vec![false]) {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(gone, "the last socket's close drops the claim");
}

#[tokio::test]
async fn a_job_whose_worker_died_is_sent_by_another_once_the_lease_runs_out() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    device_tokens::register(&mut h.conn().await, fleet.transporter, "tok-1", None, None)
        .await
        .unwrap();
    let customer = h.customer("9876543210").await;
    h.order(customer, 1).await;
    // A worker claims it and dies before sending.
    let now = h.clock.now();
    let lease = chrono::Duration::seconds(30);
    let claimed = push_jobs::claim(&mut h.conn().await, now, now + lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        send_due(&h.dispatch).await.unwrap(),
        0,
        "leased to the other"
    );
    h.advance(29);
    assert_eq!(send_due(&h.dispatch).await.unwrap(), 0);
    h.advance(2);
    assert_eq!(send_due(&h.dispatch).await.unwrap(), 1);
    assert_eq!(sent(&h, "new_broadcast"), 1);
    assert_eq!(h.count(PENDING).await, 0);
}

#[tokio::test]
async fn an_expired_offer_is_told_to_its_transporters_and_pushed_as_broadcast_expired() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    let customer = h.customer("9876543210").await;
    let order = h.order(customer, 1).await;
    device_tokens::register(&mut h.conn().await, fleet.transporter, "tok-1", None, None)
        .await
        .unwrap();
    h.advance(61);
    assert_eq!(h.dispatch.expiry.sweep_once().await.unwrap().len(), 1);
    let room = format!("transporter:{}", fleet.transporter);
    let told = h.events_to(order, &room).await;
    assert!(told.iter().any(|e| e == "broadcast_expired"), "{told:?}");
    let pushed: i64 = h
        .count(
            "SELECT count(*) AS count FROM push_jobs j JOIN outbox o ON o.id = j.outbox_id \
             WHERE o.topic = 'broadcast_expired'",
        )
        .await;
    assert_eq!(pushed, 1);
    let not_order_expired: i64 = h
        .count(
            "SELECT count(*) AS count FROM push_jobs j JOIN outbox o ON o.id = j.outbox_id \
             WHERE o.topic = 'order_expired'",
        )
        .await;
    assert_eq!(not_order_expired, 0, "one push per expiry, not two");
}
