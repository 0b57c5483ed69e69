//! A PostgreSQL database per test, cloned from a template migrated once per
//! migration set, and dropped when the test ends.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use rand::Rng;
use secrecy::SecretString;
use tokio::sync::OnceCell;

use crate::TestServers;

/// Test databases are named `weelo_t_{unix seconds}_{random}`; ones older
/// than this were left by a crashed run and are swept.
const LEFTOVER_AGE: Duration = Duration::from_secs(2 * 60 * 60);
/// Serialises template creation across test processes.
const TEMPLATE_LOCK_KEY: i64 = 0x0074_656d_706c;

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A database of the test's own; dropped (connections and all) on `Drop`.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    servers: TestServers,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn new() -> anyhow::Result<Self> {
        let servers = TestServers::load()?;
        let template = TEMPLATE
            .get_or_try_init(|| prepare_template(&servers))
            .await?
            .clone();
        Self::create(servers, Some(&template)).await
    }

    /// A fresh, empty database: no tables, no migrations.
    pub async fn empty() -> anyhow::Result<Self> {
        Self::create(TestServers::load()?, None).await
    }

    async fn create(servers: TestServers, template: Option<&str>) -> anyhow::Result<Self> {
        let name = new_database_name();
        let mut admin = AsyncPgConnection::establish(&servers.database_admin_url).await?;
        let sql = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        let mut attempt = 0;
        // Two clones of one template at the same instant can collide on the
        // template's lock; a short retry settles it.
        while let Err(error) = admin.batch_execute(&sql).await {
            attempt += 1;
            if attempt >= 20 {
                return Err(error.into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let url = servers.database_url(&name);
        Ok(Self { name, url, servers })
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's URL as the settings want it.
    pub fn secret_url(&self) -> SecretString {
        SecretString::from(self.url.clone())
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection to this database.
    pub async fn connect(&self) -> anyhow::Result<AsyncPgConnection> {
        Ok(AsyncPgConnection::establish(&self.url).await?)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.servers.database_admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop cannot await; a short-lived thread with its own runtime can.
        let dropped = std::thread::spawn(move || run_admin_sql(&admin_url, &sql)).join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("test-support: could not drop database {}", self.name);
        }
    }
}

fn run_admin_sql(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut admin = AsyncPgConnection::establish(admin_url).await?;
        admin.batch_execute(sql).await?;
        Ok(())
    })
}

fn new_database_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let suffix: u64 = rand::rng().random();
    format!("weelo_t_{secs}_{suffix:016x}")
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// Makes sure the template for the current migrations exists and returns its
/// name; sweeps stale templates and leftover test databases on the way.
async fn prepare_template(servers: &TestServers) -> anyhow::Result<String> {
    let template = format!("weelo_tpl_{:016x}", migrations_fingerprint()?);
    let mut admin = AsyncPgConnection::establish(&servers.database_admin_url).await?;
    admin
        .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"))
        .await?;
    let prepared = prepare_template_locked(servers, &mut admin, &template).await;
    admin
        .batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"))
        .await?;
    prepared.map(|()| template)
}

async fn prepare_template_locked(
    servers: &TestServers,
    admin: &mut AsyncPgConnection,
    template: &str,
) -> anyhow::Result<()> {
    let existing: Vec<DatabaseName> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'weelo\\_t%'")
            .load(admin)
            .await?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    for stale in existing
        .iter()
        .filter(|db| is_stale(&db.datname, template, now))
    {
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                stale.datname
            ))
            .await?;
    }
    if existing.iter().any(|db| db.datname == template) {
        return Ok(());
    }
    // Migrate under a temporary name and rename at the end, so a crash half
    // way never leaves a half-migrated template behind under the real name.
    let building = format!("{template}_building");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {building}"))
        .await?;
    let url = SecretString::from(servers.database_url(&building));
    weelo_persistence::migrate::run_migrations(&url).await?;
    admin
        .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
        .await?;
    Ok(())
}

/// A template of other migrations, or a test database older than
/// [`LEFTOVER_AGE`].
fn is_stale(name: &str, current_template: &str, now_secs: u64) -> bool {
    if name.starts_with("weelo_tpl_") {
        return name != current_template;
    }
    let created = name
        .strip_prefix("weelo_t_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|secs| secs.parse::<u64>().ok());
    created.is_some_and(|secs| now_secs.saturating_sub(secs) > LEFTOVER_AGE.as_secs())
}

/// A hash of every migration file, so a changed migration gets a new template.
fn migrations_fingerprint() -> anyhow::Result<u64> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut files = Vec::new();
    collect_files(&dir, &mut files)?;
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.strip_prefix(&dir)?.hash(&mut hasher);
        std::fs::read(&file)?.hash(&mut hasher);
    }
    Ok(hasher.finish())
}

fn collect_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_stale;

    #[test]
    fn only_old_test_databases_and_other_templates_are_stale() {
        let now = 10_000_000;
        assert!(is_stale("weelo_t_1000_abcd", "weelo_tpl_1", now));
        assert!(!is_stale(
            &format!("weelo_t_{}_abcd", now - 60),
            "weelo_tpl_1",
            now
        ));
        assert!(is_stale("weelo_tpl_0", "weelo_tpl_1", now));
        assert!(!is_stale("weelo_tpl_1", "weelo_tpl_1", now));
        assert!(!is_stale(
            "weelo_tpl_1_building",
            "weelo_tpl_1_building",
            now
        ));
    }
}
