//! The connection layer under the repositories: statements kept prepared
//! ([`weelo_persistence::cached`]) and the pool's check of idle connections.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use weelo_persistence::cached::cached;
use weelo_test_support::TestDb;

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = Integer)]
    n: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// How many statements with exactly `sql` this connection keeps prepared.
async fn prepared(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query("SELECT count(*) AS count FROM pg_prepared_statements WHERE statement = $1")
        .bind::<Text, _>(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .count
}

#[tokio::test]
async fn a_cached_statement_is_prepared_once_and_answers_each_value() {
    let db = TestDb::empty().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let kept = "SELECT $1::int4 + 1 AS n";
    let not_kept = "SELECT $1::int4 + 2 AS n";
    for value in [1, 10, 100] {
        let row: Number = cached(diesel::sql_query(kept).bind::<Integer, _>(value))
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(row.n, value + 1);
        let row: Number = diesel::sql_query(not_kept)
            .bind::<Integer, _>(value)
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(row.n, value + 2);
    }
    assert_eq!(prepared(&mut conn, kept).await, 1, "kept and reused");
    assert_eq!(
        prepared(&mut conn, not_kept).await,
        0,
        "diesel closes raw SQL"
    );
}

#[tokio::test]
async fn a_cached_update_changes_the_rows_of_each_call() {
    let db = TestDb::empty().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    conn.batch_execute("CREATE TABLE counters (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO counters VALUES (1, 0), (2, 0)")
        .await
        .unwrap();
    let update = "UPDATE counters SET n = n + $1 WHERE id = $2";
    for (by, id) in [(5, 1), (7, 2), (1, 1)] {
        let changed = cached(
            diesel::sql_query(update)
                .bind::<Integer, _>(by)
                .bind::<Integer, _>(id),
        )
        .execute(&mut conn)
        .await
        .unwrap();
        assert_eq!(changed, 1);
    }
    let total: Number = diesel::sql_query("SELECT (sum(n) * 10 + min(n))::int4 AS n FROM counters")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(total.n, 13 * 10 + 6, "1 got 5 + 1, 2 got 7");
    assert_eq!(prepared(&mut conn, update).await, 1);
}

#[tokio::test]
async fn the_pool_replaces_a_connection_whose_backend_died_while_idle() {
    let db = TestDb::new().await.unwrap();
    let settings = weelo_persistence::DatabaseSettings {
        url: db.secret_url(),
        pool_size: 2,
        wait_timeout_ms: 1_000,
        connect_timeout_ms: 1_000,
        statement_timeout_ms: 5_000,
        // Every connection counts as idle, so each is checked before use.
        verify_idle_after_ms: 0,
        application_name: "weelo-persistence-test".to_owned(),
        tls_root_cert: None,
    };
    let pool = weelo_persistence::build_pool(&settings).unwrap();
    let pid = {
        let mut conn = pool.get().await.unwrap();
        backend_pid(&mut conn).await
    };
    let mut admin = db.connect().await.unwrap();
    diesel::sql_query("SELECT 1 AS n FROM pg_terminate_backend($1, 5000)")
        .bind::<Integer, _>(pid)
        .get_result::<Number>(&mut admin)
        .await
        .unwrap();
    let mut conn = pool.get().await.unwrap();
    let replacement = backend_pid(&mut conn).await;
    assert_ne!(replacement, pid, "the dead connection was not handed out");
}

async fn backend_pid(conn: &mut AsyncPgConnection) -> i32 {
    diesel::sql_query("SELECT pg_backend_pid() AS n")
        .get_result::<Number>(conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn the_answer_and_event_bodies_compress_with_lz4() {
    #[derive(QueryableByName)]
    struct Method {
        #[diesel(sql_type = Text)]
        column: String,
        #[diesel(sql_type = Text)]
        method: String,
    }
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let rows: Vec<Method> = diesel::sql_query(
        "SELECT attrelid::regclass::text || '.' || attname AS column, attcompression::text AS method
         FROM pg_attribute
         WHERE (attrelid, attname) IN (('idempotency_keys'::regclass, 'response_body'), ('outbox'::regclass, 'payload'))
         ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let found: Vec<(String, String)> = rows.into_iter().map(|r| (r.column, r.method)).collect();
    assert_eq!(
        found,
        [
            ("idempotency_keys.response_body".to_owned(), "l".to_owned()),
            ("outbox.payload".to_owned(), "l".to_owned()),
        ]
    );
}
