//! The driver's answer: accept, decline (the truck reopens) and the
//! deadline that answers for a silent driver.

use weelo_dispatch::ErrorCode;
use weelo_dispatch::assignments::{self, Answer};
use weelo_persistence::orders;

use crate::harness::{Assigned, Harness, NEAR, code_of};

#[tokio::test]
async fn an_accepted_assignment_is_the_drivers_and_cannot_be_answered_again() {
    let h = Harness::start().await;
    let Assigned {
        fleet,
        order,
        assignment,
        ..
    } = h.assigned().await;
    let answer = assignments::accept(&h.dispatch, fleet.driver, assignment, None)
        .await
        .unwrap();
    assert!(matches!(answer, Answer::Done(_)));
    let stored = weelo_persistence::assignments::find(&mut h.conn().await, assignment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "driver_accepted");
    let again = assignments::decline(&h.dispatch, fleet.driver, assignment, "too far", None).await;
    assert_eq!(code_of(again), ErrorCode::AssignmentNotPending);
    // Another driver cannot see it.
    let other = h.fleet_at(2, NEAR).await;
    assert_eq!(
        code_of(assignments::accept(&h.dispatch, other.driver, assignment, None).await),
        ErrorCode::AssignmentNotFound
    );
    let events = h
        .events_to(order, &format!("transporter:{}", fleet.transporter))
        .await;
    assert!(
        events.iter().any(|e| e == "assignment_status_changed"),
        "{events:?}"
    );
    assert!(events.iter().any(|e| e == "driver_accepted"), "{events:?}");
    let accepted = h.events(order).await;
    let told = accepted
        .iter()
        .find(|e| e.topic == "driver_accepted")
        .unwrap();
    assert_eq!(told.payload["assignmentId"], assignment.to_string());
    assert_eq!(
        told.payload["driverName"].as_str().map(str::is_empty),
        Some(false)
    );
}

#[tokio::test]
async fn a_declined_assignment_reopens_the_truck() {
    let h = Harness::start().await;
    let Assigned {
        fleet,
        order,
        assignment,
        ..
    } = h.assigned().await;
    assignments::decline(
        &h.dispatch,
        fleet.driver,
        assignment,
        "vehicle broke down",
        None,
    )
    .await
    .unwrap();
    let mut conn = h.conn().await;
    let stored = weelo_persistence::assignments::find(&mut conn, assignment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "driver_declined");
    let trucks = orders::trucks_of(&mut conn, order).await.unwrap();
    assert_eq!(trucks[0].status.as_str(), "searching");
    let stored_order = orders::find(&mut conn, order).await.unwrap().unwrap();
    assert_eq!(stored_order.trucks_filled, 0);
    let transporter = format!("transporter:{}", fleet.transporter);
    let declined = h
        .events(order)
        .await
        .into_iter()
        .find(|e| e.topic == "driver_declined")
        .unwrap();
    assert!(
        declined
            .recipients
            .iter()
            .flatten()
            .any(|r| *r == transporter)
    );
    assert_eq!(declined.payload["reason"], "vehicle broke down");
}

#[tokio::test]
async fn a_silent_driver_times_out_at_the_deadline_and_not_before() {
    let h = Harness::start().await;
    let Assigned {
        fleet,
        order,
        assignment,
        ..
    } = h.assigned().await;
    h.advance(44);
    assert_eq!(h.jobs.sweep_dispatch().await.unwrap().timed_out, 0);
    h.advance(2);
    assert_eq!(h.jobs.sweep_dispatch().await.unwrap().timed_out, 1);
    let mut conn = h.conn().await;
    let stored = weelo_persistence::assignments::find(&mut conn, assignment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "timed_out");
    let trucks = orders::trucks_of(&mut conn, order).await.unwrap();
    assert_eq!(trucks[0].status.as_str(), "searching");
    assert_eq!(
        code_of(assignments::accept(&h.dispatch, fleet.driver, assignment, None).await),
        ErrorCode::AssignmentNotPending
    );
    let told = h
        .events_to(order, &format!("transporter:{}", fleet.transporter))
        .await;
    assert!(told.iter().any(|e| e == "driver_timeout"), "{told:?}");
    // The captain app knows `expired`, not `timed_out`.
    let transporter = format!("transporter:{}", fleet.transporter);
    let status = h
        .events(order)
        .await
        .into_iter()
        .find(|e| {
            e.topic == "assignment_status_changed"
                && e.recipients.iter().flatten().any(|r| *r == transporter)
        })
        .unwrap();
    assert_eq!(status.payload["status"], "expired");
    assert_eq!(status.payload["reason"], "timeout");
}
