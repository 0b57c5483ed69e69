//! The relay is woken by the use case that committed events, not by its
//! timer: with a tick an hour apart, a create's events still reach this
//! instance's sockets.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use weelo_dispatch::relay::Relay;
use weelo_dispatch::sockets::{Delivery, Sockets};

use crate::harness::{Harness, NEAR};

/// Sockets that hand every delivery to the test.
struct Captured(mpsc::UnboundedSender<Delivery>);

impl Sockets for Captured {
    fn deliver(&self, delivery: Delivery) {
        let _ = self.0.send(delivery);
    }
}

#[tokio::test]
async fn a_create_wakes_the_relay_and_its_events_reach_the_sockets() {
    let h = Harness::start().await;
    let fleet = h.fleet_at(1, NEAR).await;
    let customer = h.customer("9876543210").await;
    let (sent, mut delivered) = mpsc::unbounded_channel();
    let d = &h.dispatch;
    let relay = Relay::new(
        d.db.clone(),
        d.cache.clone(),
        Arc::new(Captured(sent)),
        d.clock.clone(),
        d.relay_wake.clone(),
        (Duration::from_millis(200), Duration::from_secs(2)),
    );
    // The first tick fires at once (nothing to send); the next in an hour.
    relay.spawn(Duration::from_secs(3600), &d.supervisor);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let order = h.order(customer, 1).await;
    let mut names = Vec::new();
    while names.len() < 3 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), delivered.recv())
            .await
            .expect("the relay was not woken by the create")
            .expect("the relay stopped");
        // The fleet's own events (its vehicle and driver, written before)
        // are not the create's.
        if delivery.data.get("orderId").is_some() || delivery.name == "order_created" {
            names.push((delivery.name.clone(), delivery.rooms.clone()));
        }
    }
    let order_room = format!("order:{order}");
    let transporter_room = format!("transporter:{}", fleet.transporter);
    assert!(
        names
            .iter()
            .any(|(name, rooms)| name == "order_created" && rooms.contains(&order_room)),
        "{names:?}"
    );
    assert!(
        names.iter().any(|(name, rooms)| name == "new_broadcast"
            && rooms == std::slice::from_ref(&transporter_room)),
        "{names:?}"
    );
    assert!(d.supervisor.shutdown(Duration::from_secs(5)).await);
}
