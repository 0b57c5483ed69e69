//! weelo-cache against the real Redis: every test has a key prefix of its
//! own (and a server of its own where it stops one), so they run in
//! parallel and leave nothing behind.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

use std::time::Duration;

use futures_util::StreamExt;
use uuid::Uuid;
use weelo_cache::presence::{Beat, PresenceEvent};
use weelo_cache::{Cache, RateDecision, RedisSettings};
use weelo_test_support::{RedisServer, TestRedis};

fn settings(url: &str, prefix: &str) -> RedisSettings {
    RedisSettings {
        url: url.to_owned().into(),
        pool_size: 4,
        key_prefix: prefix.to_owned(),
        timeout_ms: 1_000,
        verify_idle_after_ms: 1_000,
    }
}

fn cache_on(redis: &TestRedis) -> Cache {
    Cache::connect(&settings(redis.url(), redis.prefix())).unwrap()
}

fn fresh() -> (TestRedis, Cache) {
    let redis = TestRedis::new().unwrap();
    let cache = cache_on(&redis);
    (redis, cache)
}

#[tokio::test]
async fn every_key_carries_the_prefix_and_two_prefixes_never_meet() {
    let (redis_a, a) = fresh();
    let (redis_b, b) = fresh();
    a.put_snapshot("order:1", 1, r#"{"who":"a"}"#, 60_000)
        .await
        .unwrap();
    assert_eq!(b.get_snapshot("order:1").await.unwrap(), None);
    let keys = redis_a.keys().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with(redis_a.prefix())));
    assert!(redis_b.keys().unwrap().is_empty());
}

#[tokio::test]
async fn a_snapshot_is_read_back_as_written() {
    let (_redis, cache) = fresh();
    assert!(
        cache
            .put_snapshot("order:7", 3, r#"{"status":"active"}"#, 60_000)
            .await
            .unwrap()
    );
    assert_eq!(
        cache.get_snapshot("order:7").await.unwrap().as_deref(),
        Some(r#"{"status":"active"}"#)
    );
}

#[tokio::test]
async fn an_older_version_never_replaces_a_newer_snapshot() {
    let (_redis, cache) = fresh();
    assert!(
        cache
            .put_snapshot("order:9", 5, "five", 60_000)
            .await
            .unwrap()
    );
    assert!(
        !cache
            .put_snapshot("order:9", 4, "four", 60_000)
            .await
            .unwrap()
    );
    assert_eq!(
        cache.get_snapshot("order:9").await.unwrap().as_deref(),
        Some("five")
    );
    // The same version again is written (an idempotent re-publish).
    assert!(
        cache
            .put_snapshot("order:9", 5, "five again", 60_000)
            .await
            .unwrap()
    );
    assert!(
        cache
            .put_snapshot("order:9", 6, "six", 60_000)
            .await
            .unwrap()
    );
    assert_eq!(
        cache.get_snapshot("order:9").await.unwrap().as_deref(),
        Some("six")
    );
}

#[tokio::test]
async fn a_batch_of_snapshots_writes_only_the_newer_ones() {
    let (_redis, cache) = fresh();
    cache.put_snapshot("a", 10, "a10", 60_000).await.unwrap();
    let written = cache
        .put_snapshots(&[("a", 9, "a9"), ("b", 1, "b1"), ("c", 2, "c2")], 60_000)
        .await
        .unwrap();
    assert_eq!(written, 2);
    let read = cache
        .get_snapshots(&[
            "a".to_owned(),
            "b".to_owned(),
            "missing".to_owned(),
            "c".to_owned(),
        ])
        .await
        .unwrap();
    assert_eq!(
        read,
        vec![
            Some("a10".to_owned()),
            Some("b1".to_owned()),
            None,
            Some("c2".to_owned())
        ]
    );
    assert!(cache.get_snapshots(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_dropped_snapshot_is_gone() {
    let (_redis, cache) = fresh();
    cache.put_snapshot("order:2", 1, "x", 60_000).await.unwrap();
    cache.drop_snapshot("order:2").await.unwrap();
    assert_eq!(cache.get_snapshot("order:2").await.unwrap(), None);
}

#[tokio::test]
async fn a_snapshot_lives_for_its_ttl() {
    let (redis, cache) = fresh();
    cache.put_snapshot("order:3", 1, "x", 5_000).await.unwrap();
    let mut conn = deadpool_redis::redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let ttl: i64 = deadpool_redis::redis::cmd("PTTL")
        .arg(format!("{}order:3", redis.prefix()))
        .query(&mut conn)
        .unwrap();
    assert!((1..=5_000).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn a_lock_has_one_owner_until_that_owner_releases_it() {
    let (_redis, cache) = fresh();
    assert!(
        cache
            .try_lock("cleanup", "instance-a", 60_000)
            .await
            .unwrap()
    );
    assert!(
        !cache
            .try_lock("cleanup", "instance-b", 60_000)
            .await
            .unwrap()
    );
    assert!(
        !cache.unlock("cleanup", "instance-b").await.unwrap(),
        "only the owner releases"
    );
    assert!(
        !cache
            .try_lock("cleanup", "instance-b", 60_000)
            .await
            .unwrap()
    );
    assert!(cache.unlock("cleanup", "instance-a").await.unwrap());
    assert!(
        cache
            .try_lock("cleanup", "instance-b", 60_000)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn locks_of_different_names_do_not_exclude_each_other() {
    let (_redis, cache) = fresh();
    assert!(cache.try_lock("cleanup", "a", 60_000).await.unwrap());
    assert!(cache.try_lock("sweeper", "b", 60_000).await.unwrap());
    assert!(!cache.unlock("never-taken", "a").await.unwrap());
}

#[tokio::test]
async fn the_rate_limit_allows_the_window_then_names_the_wait() {
    let (_redis, cache) = fresh();
    let now = 1_000_000;
    for hit in 0..3 {
        let decision = cache
            .rate_limit("create:c1", 3, 60_000, now + hit, &format!("h{hit}"))
            .await
            .unwrap();
        assert_eq!(decision, RateDecision::Allowed);
    }
    let refused = cache
        .rate_limit("create:c1", 3, 60_000, now + 10_000, "h3")
        .await
        .unwrap();
    // The oldest hit (at `now`) leaves the window at now + 60 s.
    assert_eq!(
        refused,
        RateDecision::Limited {
            retry_after_ms: 50_000
        }
    );
    // Another bucket is counted apart.
    assert_eq!(
        cache
            .rate_limit("create:c2", 3, 60_000, now, "x")
            .await
            .unwrap(),
        RateDecision::Allowed
    );
}

#[tokio::test]
async fn the_window_slides_with_the_callers_clock() {
    let (_redis, cache) = fresh();
    cache.rate_limit("b", 1, 1_000, 0, "first").await.unwrap();
    assert!(matches!(
        cache
            .rate_limit("b", 1, 1_000, 999, "second")
            .await
            .unwrap(),
        RateDecision::Limited { .. }
    ));
    assert_eq!(
        cache
            .rate_limit("b", 1, 1_000, 1_001, "third")
            .await
            .unwrap(),
        RateDecision::Allowed
    );
}

#[tokio::test]
async fn an_undone_hit_no_longer_counts() {
    let (_redis, cache) = fresh();
    cache.rate_limit("b", 1, 60_000, 0, "replay").await.unwrap();
    cache.rate_limit_undo("b", "replay").await.unwrap();
    assert_eq!(
        cache.rate_limit("b", 1, 60_000, 1, "real").await.unwrap(),
        RateDecision::Allowed
    );
}

fn beat(id: Uuid, keys: &[&str]) -> PresenceEvent {
    PresenceEvent::Beat(Beat {
        id,
        latitude: 19.07,
        longitude: 72.88,
        beat_ms: 1_700_000_000_000,
        keys: keys.iter().map(|k| (*k).to_owned()).collect(),
    })
}

#[tokio::test]
async fn presence_events_come_back_from_the_stream_in_order_with_their_origin() {
    let (_redis, cache) = fresh();
    let (t1, t2) = (Uuid::new_v4(), Uuid::new_v4());
    let events = vec![
        PresenceEvent::Online {
            id: t1,
            keys: vec!["open_17ft".to_owned()],
        },
        beat(t1, &["open_17ft", "container_20ft"]),
        PresenceEvent::Offline { id: t2 },
    ];
    cache
        .publish_presence_batch(&events, 60_000, "instance-a")
        .await
        .unwrap();
    let (last, read) = cache.read_presence("0", 100).await.unwrap();
    assert_eq!(read.len(), 3);
    assert!(read.iter().all(|(origin, _)| origin == "instance-a"));
    let got: Vec<PresenceEvent> = read.into_iter().map(|(_, e)| e).collect();
    assert_eq!(got, events);
    // Nothing after the last id.
    let (_, after) = cache.read_presence(&last, 100).await.unwrap();
    assert!(after.is_empty());
}

#[tokio::test]
async fn a_starting_instance_loads_who_is_online_and_their_last_beats() {
    let (_redis, cache) = fresh();
    let (t1, t2, t3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    cache
        .publish_presence(&beat(t1, &["open_17ft"]), 60_000, "a")
        .await
        .unwrap();
    cache
        .publish_presence(
            &PresenceEvent::Online {
                id: t2,
                keys: vec![],
            },
            60_000,
            "a",
        )
        .await
        .unwrap();
    cache
        .publish_presence(&beat(t3, &["mini"]), 60_000, "b")
        .await
        .unwrap();
    cache
        .publish_presence(&PresenceEvent::Offline { id: t3 }, 60_000, "b")
        .await
        .unwrap();
    let snapshot = cache.presence_snapshot().await.unwrap();
    let mut online = snapshot.online.clone();
    online.sort();
    let mut expected = vec![t1, t2];
    expected.sort();
    assert_eq!(online, expected);
    assert_eq!(snapshot.beats.len(), 1);
    assert_eq!(snapshot.beats[0].id, t1);
    assert_eq!(snapshot.beats[0].keys, vec!["open_17ft".to_owned()]);
    // Tailing from the snapshot's position sees only what comes after it.
    let t4 = Uuid::new_v4();
    cache
        .publish_presence(&beat(t4, &["x"]), 60_000, "c")
        .await
        .unwrap();
    let (_, after) = cache.read_presence(&snapshot.last_id, 100).await.unwrap();
    assert_eq!(after.len(), 1);
    assert!(matches!(&after[0].1, PresenceEvent::Beat(b) if b.id == t4));
}

#[tokio::test]
async fn a_published_message_reaches_a_subscriber_of_the_same_prefix_only() {
    let (redis, cache) = fresh();
    let (_other_redis, other) = fresh();
    let mut mine = cache.subscribe("events").await.unwrap();
    let mut theirs = other.subscribe("events").await.unwrap();
    let receivers = cache.publish("events", "hello").await.unwrap();
    assert_eq!(receivers, 1);
    let message = tokio::time::timeout(Duration::from_secs(5), mine.next())
        .await
        .expect("the message arrives")
        .expect("the subscription is open");
    assert_eq!(
        message.get_channel_name(),
        format!("{}events", redis.prefix())
    );
    assert_eq!(message.get_payload::<String>().unwrap(), "hello");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), theirs.next())
            .await
            .is_err(),
        "another prefix hears nothing"
    );
}

#[tokio::test]
async fn a_lost_server_is_unavailable_and_a_resumed_one_serves_again() {
    let mut server = RedisServer::start().unwrap();
    let redis = TestRedis::on(server.url());
    let cache = cache_on(&redis);
    cache.ping().await.unwrap();
    server.stop();
    assert!(
        cache.ping().await.is_err(),
        "a stopped server answers nothing"
    );
    server.resume().unwrap();
    let mut answered = false;
    for _ in 0..50 {
        if cache.ping().await.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "the pool reconnects once the server is back");
    assert!(cache.try_lock("after", "me", 1_000).await.unwrap());
}

#[tokio::test]
async fn a_subscription_ends_when_its_server_is_lost_and_a_new_one_hears_again() {
    let mut server = RedisServer::start().unwrap();
    let redis = TestRedis::on(server.url());
    let cache = cache_on(&redis);
    let mut lost = cache.subscribe("events").await.unwrap();
    server.stop();
    let ended = tokio::time::timeout(Duration::from_secs(5), lost.next())
        .await
        .expect("the stream ends rather than hanging");
    assert!(ended.is_none());
    server.resume().unwrap();
    let mut again = None;
    for _ in 0..50 {
        if let Ok(stream) = cache.subscribe("events").await {
            again = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut again = again.expect("subscribes again once the server is back");
    let mut delivered = 0;
    for _ in 0..50 {
        delivered = cache.publish("events", "back").await.unwrap_or(0);
        if delivered == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivered, 1);
    let message = tokio::time::timeout(Duration::from_secs(5), again.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.get_payload::<String>().unwrap(), "back");
}
