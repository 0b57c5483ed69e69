//! The one PostgreSQL pool builder, with every knob named, and the readiness
//! probe.

use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::Metrics;
use diesel_async::pooled_connection::deadpool::{Hook, HookError, Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use secrecy::ExposeSecret;

use crate::{DatabaseSettings, PersistenceError};

/// The pool every handler borrows connections from.
pub type DbPool = Pool<AsyncPgConnection>;
/// One borrowed connection; it goes back to the pool on drop.
pub type DbConn = Object<AsyncPgConnection>;

/// Pools below two connections deadlock as soon as one request needs a second
/// connection (a transaction plus a read), so the size is never set lower.
const MIN_POOL_SIZE: usize = 2;

/// Builds the pool. No connection is opened here: the first `get()` opens one,
/// so a server can start while PostgreSQL is still coming up.
pub fn build_pool(settings: &DatabaseSettings) -> Result<DbPool, PersistenceError> {
    let mut config = ManagerConfig::default();
    // Checked by the pre-recycle hook below, only when idle for a while.
    config.recycling_method = RecyclingMethod::Fast;
    let connector = crate::tls::connector(settings)?;
    if connector.is_tls() {
        config.custom_setup = connector.setup();
    }
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.expose_secret(),
        config,
    );
    let session_setup = session_setup_sql(settings);
    let verify_idle_after = Duration::from_millis(settings.verify_idle_after_ms);
    Pool::builder(manager)
        .runtime(Runtime::Tokio1)
        .max_size(settings.pool_size.max(MIN_POOL_SIZE))
        .wait_timeout(Some(Duration::from_millis(settings.wait_timeout_ms)))
        .create_timeout(Some(Duration::from_millis(settings.connect_timeout_ms)))
        .recycle_timeout(Some(Duration::from_millis(settings.connect_timeout_ms)))
        .post_create(Hook::async_fn(
            move |conn: &mut AsyncPgConnection, _metrics| {
                let sql = session_setup.clone();
                Box::pin(async move {
                    conn.batch_execute(&sql)
                        .await
                        .map_err(|e| HookError::Backend(PoolError::QueryError(e)))
                })
            },
        ))
        .pre_recycle(Hook::async_fn(
            move |conn: &mut AsyncPgConnection, metrics: &Metrics| {
                let verify = metrics.last_used() >= verify_idle_after;
                Box::pin(async move {
                    if verify {
                        // An error drops this connection; the pool takes
                        // or opens another.
                        conn.batch_execute("SELECT 1")
                            .await
                            .map_err(|e| HookError::Backend(PoolError::QueryError(e)))?;
                    }
                    Ok(())
                })
            },
        ))
        .build()
        .map_err(|e| PersistenceError::Config(e.to_string()))
}

/// The statements every new connection runs before it is handed out.
fn session_setup_sql(settings: &DatabaseSettings) -> String {
    let application_name = settings.application_name.replace('\'', "");
    format!(
        "SET statement_timeout = {}; SET application_name = '{application_name}'; SET TIME ZONE 'UTC';",
        settings.statement_timeout_ms
    )
}

/// Answers whether PostgreSQL serves queries right now, within the pool's wait
/// timeout.
pub async fn check_ready(pool: &DbPool) -> Result<(), PersistenceError> {
    let mut conn = pool.get().await?;
    conn.batch_execute("SELECT 1")
        .await
        .map_err(|e| PersistenceError::Unavailable(e.to_string()))
}
