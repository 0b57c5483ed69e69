//! The fleet events that keep the captain app's lists live: a vehicle and a
//! driver added, the driver going online, the vehicle going on a job and
//! coming back, each with the counters as they then stood.

use weelo_dispatch::assignments;
use weelo_dispatch::presence::switch;

use crate::harness::{Assigned, Harness};

#[tokio::test]
async fn a_fleet_owner_hears_every_change_to_its_fleet_with_the_counters() {
    let h = Harness::start().await;
    let Assigned {
        fleet, assignment, ..
    } = h.assigned().await;
    let room = format!("transporter:{}", fleet.transporter);
    let events = h.events_of_room(&room).await;
    let topics: Vec<&str> = events.iter().map(|e| e.topic.as_str()).collect();
    let first: Vec<&str> = topics
        .iter()
        .copied()
        .filter(|t| *t != "new_broadcast")
        .take(4)
        .collect();
    assert_eq!(
        first,
        [
            "vehicle_registered",
            "fleet_updated",
            "driver_added",
            "driver_status_changed"
        ]
    );
    let registered = &events[0].payload;
    assert_eq!(registered["vehicle"]["id"], fleet.vehicle.to_string());
    assert_eq!(registered["fleetStats"]["total"], 1);
    assert_eq!(registered["fleetStats"]["available"], 1);
    let online = events
        .iter()
        .find(|e| e.topic == "driver_status_changed")
        .unwrap();
    assert_eq!(online.payload["driverId"], fleet.driver.to_string());
    assert_eq!(online.payload["isOnline"], true);
    assert_eq!(online.payload["action"], "online");
    assert_eq!(online.payload["driverStats"]["available"], 1);
    let on_the_job = events
        .iter()
        .find(|e| e.topic == "vehicle_status_changed")
        .unwrap();
    assert_eq!(on_the_job.payload["vehicleId"], fleet.vehicle.to_string());
    assert_eq!(on_the_job.payload["fleetStats"]["in_transit"], 1);
    assert_eq!(on_the_job.payload["fleetStats"]["available"], 0);

    assignments::decline(&h.dispatch, fleet.driver, assignment, "too far", None)
        .await
        .unwrap();
    let back = h.events_of_room(&room).await;
    let freed = back
        .iter()
        .rev()
        .find(|e| e.topic == "vehicle_status_changed")
        .unwrap();
    assert_eq!(freed.payload["fleetStats"]["available"], 1, "free again");

    h.advance(5);
    switch::switch_driver(&h.dispatch, fleet.driver, false)
        .await
        .unwrap();
    let offline = h
        .events_of_room(&room)
        .await
        .into_iter()
        .rev()
        .find(|e| e.topic == "driver_status_changed")
        .unwrap();
    assert_eq!(offline.payload["isOnline"], false);
    assert_eq!(offline.payload["driverStats"]["available"], 0);
}
