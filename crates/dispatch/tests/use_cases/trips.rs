//! A trip moved forward by its driver until the order completes, and the
//! live position it reports.

use serde_json::json;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::assignments::{self, Answer};
use weelo_dispatch::tracking::ingest::Source;
use weelo_dispatch::tracking::status;
use weelo_persistence::orders;

use crate::harness::{Assigned, Harness, NEAR, code_of};

#[tokio::test]
async fn a_trip_runs_step_by_step_to_completion_and_the_order_completes() {
    let h = Harness::start().await;
    let Assigned {
        fleet,
        customer,
        order,
        assignment,
        trip,
    } = h.assigned().await;
    assignments::accept(&h.dispatch, fleet.driver, assignment, None)
        .await
        .unwrap();
    // Skipping a step is refused and changes nothing.
    assert_eq!(
        code_of(status::change(&h.dispatch, fleet.driver, trip, "completed", None).await),
        ErrorCode::InvalidTransition
    );
    for word in [
        "at_pickup",
        "loading_complete",
        "in_transit",
        "arrived_at_drop",
        "completed",
    ] {
        let answer = status::change(&h.dispatch, fleet.driver, trip, word, None)
            .await
            .unwrap();
        assert!(matches!(answer, Answer::Done(_)), "{word}");
    }
    let stored = orders::find(&mut h.conn().await, order)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "completed");
    let to_customer = h.events_to(order, &format!("customer:{customer}")).await;
    assert_eq!(
        to_customer.last().map(String::as_str),
        Some("booking_completed")
    );
    // Another driver's trip is not found.
    let other = h.fleet_at(2, NEAR).await;
    assert_eq!(
        code_of(status::change(&h.dispatch, other.driver, trip, "at_pickup", None).await),
        ErrorCode::TripNotFound
    );
}

#[tokio::test]
async fn a_drivers_fix_becomes_the_trips_latest_position() {
    let h = Harness::start().await;
    let Assigned {
        fleet,
        assignment,
        trip,
        ..
    } = h.assigned().await;
    assignments::accept(&h.dispatch, fleet.driver, assignment, None)
        .await
        .unwrap();
    let at = h.dispatch.clock.now();
    let fix = json!({
        "latitude": 19.0811, "longitude": 72.8812,
        "timestamp": weelo_dispatch::wire::iso(at), "speed": 8.5
    });
    h.dispatch
        .tracking
        .ingest(
            fleet.driver,
            trip,
            std::slice::from_ref(&fix),
            Source::Batch,
        )
        .await
        .unwrap();
    let latest = h
        .dispatch
        .tracking
        .latest(trip)
        .await
        .expect("a latest fix");
    assert!((latest.latitude - 19.0811).abs() < 1e-9);
    assert!((latest.longitude - 72.8812).abs() < 1e-9);
    // Someone else's trip takes no fix.
    let other = h.fleet_at(2, NEAR).await;
    assert!(
        h.dispatch
            .tracking
            .ingest(
                other.driver,
                trip,
                std::slice::from_ref(&fix),
                Source::Batch
            )
            .await
            .is_err()
    );
}
