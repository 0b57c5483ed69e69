//! Where the shared test servers are: `config/base.toml` + `config/test.toml`
//! and the `APP_…` overrides, read loosely (only the URLs matter here).

use std::path::PathBuf;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The repository's `config/` folder.
pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// The URLs of the shared PostgreSQL and Redis the tests use.
#[derive(Debug, Clone)]
pub struct TestServers {
    /// A database on the shared server the tests may connect to for
    /// administration (creating and dropping their own databases).
    pub database_admin_url: String,
    /// The shared Redis.
    pub redis_url: String,
}

#[derive(Deserialize)]
struct Loose {
    database: UrlOnly,
    redis: UrlOnly,
}

#[derive(Deserialize)]
struct UrlOnly {
    url: String,
}

/// The test configuration: `base.toml`, `test.toml`, then `APP_…`.
fn layered() -> anyhow::Result<config::Config> {
    let dir = config_dir();
    Ok(config::Config::builder()
        .add_source(config::File::from(dir.join("base.toml")))
        .add_source(config::File::from(dir.join("test.toml")))
        .add_source(
            config::Environment::with_prefix("APP")
                .prefix_separator("_")
                .separator("__"),
        )
        .build()?)
}

/// Section `name` of the test configuration, typed (a crate's own tests
/// read the settings the server would run them with).
pub fn config_section<T: DeserializeOwned>(name: &str) -> anyhow::Result<T> {
    Ok(layered()?.get(name)?)
}

/// The rate card the server prices with (`config/pricing.toml`), typed.
pub fn rate_card<T: DeserializeOwned>() -> anyhow::Result<T> {
    Ok(config::Config::builder()
        .add_source(config::File::from(config_dir().join("pricing.toml")))
        .build()?
        .try_deserialize()?)
}

impl TestServers {
    /// Reads the test configuration.
    pub fn load() -> anyhow::Result<Self> {
        let loose: Loose = layered()?.try_deserialize()?;
        Ok(Self {
            database_admin_url: loose.database.url,
            redis_url: loose.redis.url,
        })
    }

    /// The URL of database `name` on the shared server.
    pub fn database_url(&self, name: &str) -> String {
        match self.database_admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => format!("{}/{name}", self.database_admin_url),
        }
    }
}
