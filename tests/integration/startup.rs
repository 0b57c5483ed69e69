//! Start-up: migrations run exactly once however many instances start at once.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use weelo_server::Application;
use weelo_test_support::{TestDb, TestRedis};

use crate::helpers::test_settings;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_started_at_once_on_an_empty_database_both_come_up() {
    let db = TestDb::empty().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let first = test_settings(&db, &redis);
    let second = test_settings(&db, &redis);

    let (a, b) = tokio::join!(Application::build(first), Application::build(second));

    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.port(), b.port());
    let mut conn = db.connect().await.unwrap();
    let versions: Vec<Version> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load(&mut conn)
            .await
            .unwrap();
    let migration_dirs = std::fs::read_dir(weelo_test_support::config_dir().join("../migrations"))
        .unwrap()
        .filter(|entry| entry.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count();
    let mut distinct: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        migration_dirs,
        "each migration applied exactly once"
    );
    assert_eq!(
        versions.len(),
        migration_dirs,
        "no migration recorded twice"
    );
    let outbox: Vec<Count> = diesel::sql_query(
        "SELECT count(*) AS count FROM information_schema.tables WHERE table_name = 'outbox'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(outbox[0].count, 1);
}
