//! Shutdown: the supervisor stops every background loop of an instance and
//! waits for the work in flight, so nothing queued is lost.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use serde_json::json;
use weelo_dispatch::assignments;
use weelo_dispatch::relay::Relay;
use weelo_dispatch::tracking::ingest::Source;
use weelo_dispatch::wire::iso;

use crate::harness::{Assigned, Harness};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[tokio::test]
async fn shutdown_stops_every_loop_and_writes_the_gps_points_still_queued() {
    let h = Harness::start_tuned(|settings| {
        settings.orders.sweep_interval_ms = 20;
        settings.orders.cleanup_interval_secs = 1;
    })
    .await;
    let Assigned {
        fleet,
        assignment,
        trip,
        ..
    } = h.assigned().await;
    assignments::accept(&h.dispatch, fleet.driver, assignment, None)
        .await
        .unwrap();

    let d = &h.dispatch;
    let supervisor = d.supervisor.clone();
    d.expiry.spawn_loops(&supervisor);
    h.jobs.spawn_loop(&supervisor);
    d.presence.spawn_tail(&supervisor);
    let relay = Relay::new(
        d.db.clone(),
        d.cache.clone(),
        d.sockets.clone(),
        d.clock.clone(),
        d.relay_wake.clone(),
        (Duration::from_millis(200), Duration::from_secs(2)),
    );
    relay.spawn(Duration::from_millis(20), &supervisor);
    // The writers of presence and tracking, the expiry sweeper and cleanup,
    // the dispatch sweeper and watchdog, the presence tail, the relay and
    // its subscriber; the answer timer of the assignment is done.
    assert!(supervisor.running() >= 9, "{}", supervisor.running());

    // Socket fixes go to the history writer's queue, not to the database.
    let start = h.dispatch.clock.now();
    for n in 0..5_i64 {
        let at = start + chrono::Duration::seconds(n);
        let fix = json!({
            "latitude": 19.08 + 0.001 * n as f64, "longitude": 72.88,
            "timestamp": iso(at), "speed": 5.0
        });
        h.clock.advance(chrono::Duration::seconds(1));
        d.tracking
            .ingest(
                fleet.driver,
                trip,
                std::slice::from_ref(&fix),
                Source::Socket,
            )
            .await
            .unwrap();
    }

    assert!(supervisor.shutdown(Duration::from_secs(10)).await);
    assert_eq!(supervisor.running(), 0, "every loop returned");
    let mut conn = h.conn().await;
    let stored: Count =
        diesel::sql_query("SELECT count(*) AS count FROM trip_points WHERE trip_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(trip)
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        stored.count, 5,
        "the queued points were written before the writer stopped"
    );
}
