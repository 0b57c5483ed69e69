//! Embedded migrations, applied under a PostgreSQL advisory lock so that any
//! number of instances starting at once migrate exactly once.

use diesel::RunQueryDsl;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};

use crate::PersistenceError;

/// The SQL migrations of the repository's `migrations/` folder.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The advisory lock key that serialises migrations ("weelo" in ASCII, so it
/// does not collide with locks taken for other purposes).
const MIGRATION_LOCK_KEY: i64 = 0x0077_6565_6c6f;

/// Applies every pending migration and returns how many were applied.
///
/// Runs on a blocking thread: diesel's migration harness is synchronous.
pub async fn run_migrations(url: &SecretString) -> Result<usize, PersistenceError> {
    let connector = crate::tls::Connector::for_url(url.expose_secret(), None)?;
    migrate_over(&connector, url.expose_secret()).await
}

/// [`run_migrations`] as the settings connect (their TLS root certificate).
pub async fn run_migrations_for(
    settings: &crate::DatabaseSettings,
) -> Result<usize, PersistenceError> {
    let connector = crate::tls::connector(settings)?;
    migrate_over(&connector, settings.url.expose_secret()).await
}

async fn migrate_over(
    connector: &crate::tls::Connector,
    url: &str,
) -> Result<usize, PersistenceError> {
    let conn = connector
        .connect(url)
        .await
        .map_err(|e| PersistenceError::Unavailable(e.to_string()))?;
    tokio::task::spawn_blocking(move || migrate_blocking(conn))
        .await
        .map_err(|e| PersistenceError::Migration(e.to_string()))?
}

fn migrate_blocking(conn: AsyncPgConnection) -> Result<usize, PersistenceError> {
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(|e| PersistenceError::Migration(e.to_string()));
    let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn);
    let applied = applied?;
    unlocked?;
    if applied > 0 {
        tracing::info!(
            migrations.applied = applied,
            "applied {applied} database migrations"
        );
    }
    Ok(applied)
}
