//! The Redis pool ([`weelo_cache::pool`]): no `PING` before each command,
//! and connections lost in a Redis restart replaced before they are used.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use weelo_cache::Cache;
use weelo_test_support::{RedisServer, TestDb, TestRedis};

use crate::helpers::test_settings;

async fn cache_on(server: &RedisServer) -> (Cache, TestDb) {
    let db = TestDb::new().await.unwrap();
    let redis = TestRedis::on(server.url());
    let settings = test_settings(&db, &redis);
    (Cache::connect(&settings.redis).unwrap(), db)
}

#[tokio::test]
async fn busy_connections_are_not_pinged_before_each_command() {
    let server = RedisServer::start().unwrap();
    let (cache, _db) = cache_on(&server).await;
    let before = server.calls("ping").unwrap();
    for _ in 0..20 {
        assert_eq!(cache.get_snapshot("nothing-here").await.unwrap(), None);
    }
    assert_eq!(server.calls("get").unwrap(), 20);
    assert_eq!(
        server.calls("ping").unwrap(),
        before,
        "20 commands, no checks"
    );
}

#[tokio::test]
async fn after_a_restart_the_first_commands_fail_and_then_new_connections_serve() {
    let mut server = RedisServer::start().unwrap();
    let (cache, _db) = cache_on(&server).await;
    // Several connections in the pool, all recently used.
    let both = futures_util::future::join(cache.ping(), cache.ping()).await;
    assert!(both.0.is_ok() && both.1.is_ok());

    server.stop();
    assert!(cache.ping().await.is_err(), "down is down");
    server.resume().unwrap();
    // The failure marked every pooled connection suspect: each is checked,
    // the broken ones are dropped and a new one answers straight away.
    for _ in 0..3 {
        cache.ping().await.unwrap();
    }
}
