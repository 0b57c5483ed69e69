//! A Redis that stops answering (accepts, then never replies) holds back
//! neither driver timeouts nor the silence watchdog: every Redis call of a
//! sweep has a timeout, and the watchdog asks once per page, not per trip.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use weelo_test_support::{TestDb, TestRedis};

use crate::dispatch::{fleet_at, take_one, two_trucks};
use crate::helpers::{TestApp, spawn_with, test_settings};
use crate::trips::{set_status, two_accepted_trips};

/// A TCP proxy to the test's Redis that can be frozen: while frozen it
/// forwards nothing either way, as a hung Redis would answer.
struct FreezableRedis {
    address: String,
    frozen: Arc<AtomicBool>,
    /// Everything clients sent, for counting commands.
    sent: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl FreezableRedis {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("redis://{}", listener.local_addr().unwrap());
        let frozen = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, log) = (frozen.clone(), sent.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(
                    client_read,
                    server_write,
                    flag.clone(),
                    Some(log.clone()),
                ));
                tokio::spawn(pipe(server_read, client_write, flag.clone(), None));
            }
        });
        Self {
            address,
            frozen,
            sent,
        }
    }

    fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
        self.sent.lock().unwrap().clear();
    }

    /// How many `command`s clients sent since the freeze (RESP bulk
    /// strings: `$4\r\nMGET\r\n`).
    fn sent_since_freeze(&self, command: &str) -> usize {
        let needle = format!("${}\r\n{command}\r\n", command.len());
        let sent = self.sent.lock().unwrap();
        sent.windows(needle.len())
            .filter(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
            .count()
    }
}

/// Copies `from` to `to`, holding every chunk while `frozen`.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
    log: Option<Arc<std::sync::Mutex<Vec<u8>>>>,
) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let Ok(read) = from.read(&mut buffer).await else {
            return;
        };
        if read == 0 {
            return;
        }
        if let Some(log) = &log {
            log.lock().unwrap().extend_from_slice(&buffer[..read]);
        }
        while frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// The server, its Redis behind a proxy that can freeze.
async fn behind_a_freezable_redis() -> (TestApp, FreezableRedis) {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let upstream = redis.url().trim_start_matches("redis://").to_owned();
    let proxy = FreezableRedis::start(upstream).await;
    let mut settings = test_settings(&db, &redis);
    settings.redis.url = proxy.address.clone().into();
    (spawn_with(settings, db, redis).await, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_hung_the_watchdog_asks_once_per_page_and_still_reports() {
    let (app, proxy) = behind_a_freezable_redis().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let (_, _, trips) = two_accepted_trips(&app, &t1, &t2).await;
    for (driver, trip) in [(&t1.driver_token, &trips[0]), (&t2.driver_token, &trips[1])] {
        for word in ["at_pickup", "loading_complete", "in_transit"] {
            assert_eq!(set_status(&app, driver, trip, word).await.0, StatusCode::OK);
        }
    }
    proxy.freeze();
    app.clock.advance(Duration::seconds(121));

    let silent = tokio::time::timeout(StdDuration::from_secs(20), app.jobs.sweep_once())
        .await
        .expect("a sweep with Redis hung must finish")
        .unwrap()
        .silent;

    assert_eq!(silent, 2);
    assert_eq!(proxy.sent_since_freeze("GET"), 0, "no GET per trip");
    assert_eq!(proxy.sent_since_freeze("MGET"), 1, "one MGET for the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hung_redis_delays_no_driver_timeout() {
    let (app, proxy) = behind_a_freezable_redis().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    take_one(&app, &t1, &order_id).await;

    proxy.freeze();
    app.clock.advance(Duration::seconds(46));
    // Bounded by the Redis timeouts, not by Redis coming back (it never does).
    let report = tokio::time::timeout(StdDuration::from_secs(20), app.jobs.sweep_once())
        .await
        .expect("a sweep with Redis hung must finish")
        .unwrap();

    assert_eq!(report.timed_out, 1, "{report:?}");
    assert_eq!(
        app.count_rows("assignments WHERE status = 'timed_out'")
            .await,
        1
    );
    let (status, _) = app.call(Method::GET, "health", None, None).await;
    assert_eq!(status, StatusCode::OK);
}
