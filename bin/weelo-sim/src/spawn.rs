//! `--spawn`: a weelo-server (the binary next to this one) on a fresh
//! database and Redis prefix and a free port, for a one-command demo; all of
//! it is removed again when the run ends. Its log (warnings and up) goes to
//! `sim-server.log`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// PostgreSQL as `make services` sets it up.
const ADMIN_URL: &str = "postgres://weelo:weelo@127.0.0.1:5432/weelo";

/// A running server of the simulator's own.
pub struct Spawned {
    child: Child,
    database: String,
    prefix: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its database.
    pub database_url: String,
}

impl Spawned {
    /// Creates the database and starts the server; waits until it is ready.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(&[]).await
    }

    /// [`Spawned::start`] with settings of the load profile (`APP_…`
    /// overrides): one load tool on one address holds what many phones
    /// would, so a profile raises the caps it would otherwise meet.
    pub async fn start_with(overrides: &[(&str, String)]) -> anyhow::Result<Self> {
        let tag = std::process::id();
        let database = format!("weelo_sim_{tag}");
        let prefix = format!("weelo-sim-{tag}:");
        let admin = std::env::var("WEELO_SIM_ADMIN_URL").unwrap_or_else(|_| ADMIN_URL.to_owned());
        let created = Command::new("psql")
            .args([
                admin.as_str(),
                "-v",
                "ON_ERROR_STOP=1",
                "-qc",
                &format!("CREATE DATABASE {database}"),
            ])
            .status()
            .context("psql (make services installs it)")?;
        if !created.success() {
            bail!("could not create the database {database}");
        }
        let database_url = format!(
            "{}/{database}",
            admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(base, _)| base)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let binary = std::env::current_exe()?
            .parent()
            .context("no binary folder")?
            .join("weelo-server");
        let config = config_dir(&binary)?;
        let child = Command::new(&binary)
            .arg("serve")
            .env("APP_CONFIG_DIR", &config)
            .env("APP_ENVIRONMENT", "local")
            .env("APP_DATABASE__URL", &database_url)
            .env("APP_DATABASE__POOL_SIZE", "32")
            .env("APP_SERVER__PORT", port.to_string())
            .env("APP_SERVER__HOST", "127.0.0.1")
            .env("APP_REDIS__KEY_PREFIX", &prefix)
            .env("APP_LOG__FILTER", "warn")
            // Every simulated phone connects from this one address: the
            // per-address session cap (200) stands for one phone's
            // neighbourhood, not for a load tool.
            .env("APP_REALTIME__MAX_SESSIONS_PER_IP", "1000000")
            .envs(
                overrides
                    .iter()
                    .map(|(name, value)| (*name, value.as_str())),
            )
            .stdout(Stdio::from(std::fs::File::create("sim-server.log")?))
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let spawned = Self {
            child,
            database,
            prefix,
            url: format!("http://127.0.0.1:{port}"),
            database_url,
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ready = client
                .get(format!("{}/api/v1/health/ready", spawned.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(spawned);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the spawned server did not become ready")
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The repository's `config/`: above the binary (`target/release/…`) or
/// here.
fn config_dir(binary: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let here = std::env::current_dir()?;
    binary
        .ancestors()
        .chain(here.ancestors())
        .map(|dir| dir.join("config"))
        .find(|dir| dir.join("base.toml").is_file())
        .context("no config/base.toml above the binary or here")
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let admin = std::env::var("WEELO_SIM_ADMIN_URL").unwrap_or_else(|_| ADMIN_URL.to_owned());
        let _ = Command::new("psql")
            .args([
                admin.as_str(),
                "-qc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            ])
            .stdout(Stdio::null())
            .status();
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "redis-cli -h 127.0.0.1 --scan --pattern '{}*' | xargs -r redis-cli -h 127.0.0.1 DEL",
                self.prefix
            ))
            .stdout(Stdio::null())
            .status();
    }
}
