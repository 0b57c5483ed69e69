//! Layered configuration: `config/base.toml`, then `config/{environment}.toml`
//! (`APP_ENVIRONMENT`: `production` unless it names `local` or `test`), then
//! `APP_SECTION__KEY` environment variables (`APP_SERVER__PORT=8080`,
//! `APP_DATABASE__URL=…`, `APP_REDIS__KEY_PREFIX=…`). Unknown keys fail at
//! start-up, so a typo never silently falls back to a default.
//!
//! `APP_CONFIG_DIR` points at another configuration folder (default
//! `config`).
//!
//! Safe by default: with `APP_ENVIRONMENT` unset the server runs as
//! production, and outside local and test it refuses a signing secret that
//! is written in any file of the configuration folder, OTPs in answers, and
//! the logging SMS sender unless `sms.allow_logging_sender` says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::realtime_settings::RealtimeSettings;
use secrecy::ExposeSecret;
use serde::Deserialize;
use weelo_api::auth::{AuthSettings, SmsProvider, SmsSettings};
use weelo_cache::RedisSettings;
use weelo_dispatch::documents::StorageSettings;
use weelo_dispatch::documents::kyc::KycSettings;
use weelo_dispatch::orders::OrderSettings;
use weelo_dispatch::places::{MapsProvider, MapsSettings};
use weelo_dispatch::presence::PresenceSettings;
use weelo_dispatch::push::{PushProvider, PushSettings};
use weelo_dispatch::tracking::TrackingSettings;
use weelo_persistence::DatabaseSettings;

/// Environment variables that steer loading itself, not settings keys.
const LOADER_VARIABLES: &[&str] = &["APP_ENVIRONMENT", "APP_CONFIG_DIR"];

/// Which configuration file is layered over `base.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine (`make run`).
    Local,
    /// The test suite.
    Test,
    /// A real deployment: secrets must come from the environment.
    Production,
}

impl Environment {
    /// The name of the configuration file (without `.toml`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Test => "test",
            Self::Production => "production",
        }
    }

    /// `APP_ENVIRONMENT`, production when unset: a developer's machine and
    /// the tests name themselves, so a deployment that forgets the variable
    /// gets production's checks, not the development secret.
    pub fn from_vars(vars: &HashMap<String, String>) -> anyhow::Result<Self> {
        vars.get("APP_ENVIRONMENT")
            .map_or(Ok(Self::Production), |name| Self::parse(name))
    }

    fn parse(name: &str) -> anyhow::Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "local" => Ok(Self::Local),
            "test" => Ok(Self::Test),
            "production" => Ok(Self::Production),
            other => {
                anyhow::bail!("APP_ENVIRONMENT is `{other}`; use `local`, `test` or `production`")
            }
        }
    }
}

/// Every setting of the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Which environment these settings were loaded for.
    pub environment: Environment,
    /// The HTTP listener.
    pub server: ServerSettings,
    /// PostgreSQL.
    pub database: DatabaseSettings,
    /// Redis.
    pub redis: RedisSettings,
    /// Login, tokens and OTPs.
    pub auth: AuthSettings,
    /// OTP delivery.
    pub sms: SmsSettings,
    /// Order windows, limits and expiry jobs.
    pub orders: OrderSettings,
    /// Online transporters and the proximity index.
    pub presence: PresenceSettings,
    /// Sockets and the outbox relay.
    pub realtime: RealtimeSettings,
    /// Live positions of trips.
    pub tracking: TrackingSettings,
    /// Logs.
    pub log: LogSettings,
    /// Where `GET /metrics` is served.
    pub metrics: MetricsSettings,
    /// Per-user limits on repeated calls.
    pub limits: weelo_api::limits::LimitSettings,
    /// Push notifications.
    pub push: PushSettings,
    /// `[maps]`: place search, routes, ETAs.
    pub maps: MapsSettings,
    /// `[storage]`: documents' object storage and upload limits.
    pub storage: StorageSettings,
    /// `[kyc]`: drivers' verification rules.
    pub kyc: KycSettings,
    /// The rate card, read from `pricing.toml` beside the other files (not
    /// layered: it is data, not settings).
    #[serde(skip)]
    pub pricing: Option<std::sync::Arc<weelo_orders::pricing::Catalogue>>,
}

/// The `[metrics]` section: who may read `GET /metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `GET /metrics` on the public listener too (local and test; off
    /// by default, since the figures describe the service to anyone).
    pub public: bool,
    /// A listener of its own for `GET /metrics` alone, such as
    /// `127.0.0.1:9100` (port 0 picks a free one).
    #[serde(default)]
    pub listen: Option<String>,
}

/// The `[server]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to bind (`0.0.0.0` to serve the network, `127.0.0.1` locally).
    pub host: String,
    /// Port to bind; `0` picks a free one (tests).
    pub port: u16,
    /// HTTP worker threads; `0` means one per core.
    pub workers: usize,
    /// On SIGTERM, how long in-flight requests may take to finish (SIGINT
    /// stops at once).
    pub shutdown_timeout_secs: u64,
    /// Whether to apply pending migrations at start-up (besides `migrate`).
    pub migrate_on_start: bool,
    /// Load balancers whose `X-Forwarded-For` names the client (addresses or
    /// CIDR networks); from anyone else the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Send `Strict-Transport-Security` (only when every client reaches the
    /// service over TLS, at the load balancer or here).
    pub hsts: bool,
}

/// The `[log]` section. `RUST_LOG`, when set, overrides `filter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `text` for people, `json` for log pipelines.
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info,weelo_api=debug`.
    pub filter: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Settings {
    /// Loads settings from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let dir = vars
            .get("APP_CONFIG_DIR")
            .map_or_else(|| PathBuf::from("config"), PathBuf::from);
        if !dir.join("base.toml").is_file() {
            anyhow::bail!(
                "no configuration at {}: run from the repository (its config/ folder) or set \
                 APP_CONFIG_DIR to the folder holding base.toml",
                dir.join("base.toml").display()
            );
        }
        Self::load(&dir, Environment::from_vars(&vars)?, &vars)
    }

    /// Loads `dir/base.toml`, then `dir/{environment}.toml`, then the `APP_…`
    /// entries of `vars`.
    pub fn load(
        dir: &Path,
        environment: Environment,
        vars: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let overrides: HashMap<String, String> = vars
            .iter()
            .filter(|(key, _)| key.starts_with("APP_") && !LOADER_VARIABLES.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let loaded = config::Config::builder()
            .add_source(config::File::from(dir.join("base.toml")).required(true))
            .add_source(
                config::File::from(dir.join(format!("{}.toml", environment.as_str())))
                    .required(false),
            )
            .add_source(
                config::Environment::with_prefix("APP")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    // The list settings take comma-separated values
                    // (APP_SERVER__TRUSTED_PROXIES=10.0.0.0/8,172.16.0.0/12).
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies")
                    .with_list_parse_key("orders.radius_steps_km")
                    .with_list_parse_key("orders.radius_step_secs")
                    .source(Some(overrides)),
            )
            .set_override("environment", environment.as_str())?
            .build()?;
        let mut settings: Self = loaded.try_deserialize()?;
        let rate_card = dir.join("pricing.toml");
        let pricing: weelo_orders::pricing::Catalogue = config::Config::builder()
            .add_source(config::File::from(rate_card.as_path()).required(true))
            .build()?
            .try_deserialize()
            .map_err(|error| anyhow::anyhow!("{}: {error}", rate_card.display()))?;
        settings.pricing = Some(std::sync::Arc::new(pricing));
        settings.validate()?;
        if settings.environment == Environment::Production {
            refuse_a_secret_from(dir, &settings)?;
        }
        Ok(settings)
    }

    /// Whether this is a deployment (not a developer's machine or the tests).
    pub fn is_deployed(&self) -> bool {
        !matches!(self.environment, Environment::Local | Environment::Test)
    }

    /// Rules across sections that types cannot express.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.auth.validate()?;
        weelo_api::client_ip::TrustedProxies::parse(&self.server.trusted_proxies)
            .map_err(anyhow::Error::msg)?;
        if !self.orders.steps_are_valid() {
            anyhow::bail!(
                "orders.radius_steps_km and orders.radius_step_secs must have the same length, widen, and start at 0 s"
            );
        }
        if self.is_deployed() && self.auth.expose_otp {
            anyhow::bail!("auth.expose_otp must be false in production: it would hand out OTPs");
        }
        if self.is_deployed()
            && self.sms.provider == SmsProvider::Log
            && !self.sms.allow_logging_sender
        {
            anyhow::bail!(
                "sms.provider is `log`, which delivers no OTP: nobody could log in. \
                 Configure a provider, or set sms.allow_logging_sender = true for a staging box"
            );
        }
        if self.is_deployed()
            && self.push.provider == PushProvider::Log
            && !self.push.allow_log_provider
        {
            anyhow::bail!(
                "push.provider is `log`, which sends no push: drivers would never hear of \
                 their trips. Configure `fcm`, or set push.allow_log_provider = true for a \
                 staging box"
            );
        }
        match self.maps.provider {
            MapsProvider::Google if self.maps.google_api_key.is_none() => {
                anyhow::bail!("maps.provider = \"google\" needs maps.google_api_key")
            }
            MapsProvider::Open
                if self.maps.geocoder_url.is_none() || self.maps.router_url.is_none() =>
            {
                anyhow::bail!(
                    "maps.provider = \"open\" needs maps.geocoder_url (Photon) and maps.router_url (OSRM)"
                )
            }
            _ => {}
        }
        if self.push.provider == PushProvider::Fcm && self.push.fcm_credentials_file.is_none() {
            anyhow::bail!("push.provider = \"fcm\" needs push.fcm_credentials_file");
        }
        Ok(())
    }
}

/// Refuses a signing secret that is written in any configuration file: a
/// secret in the repository signs tokens anyone can forge.
fn refuse_a_secret_from(dir: &Path, settings: &Settings) -> anyhow::Result<()> {
    let secret = settings.auth.jwt_secret.expose_secret();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "toml") {
            continue;
        }
        let file = config::Config::builder()
            .add_source(config::File::from(path.as_path()))
            .build()?;
        if file
            .get_string("auth.jwt_secret")
            .is_ok_and(|written| written == secret)
        {
            anyhow::bail!(
                "auth.jwt_secret is the one written in {}: give production its own \
                 (APP_AUTH__JWT_SECRET)",
                path.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
    }

    #[test]
    fn environment_variables_override_the_files() -> anyhow::Result<()> {
        let vars = HashMap::from([
            ("APP_SERVER__PORT".to_owned(), "8088".to_owned()),
            (
                "APP_REDIS__URL".to_owned(),
                "rediss://cache.internal:6380".to_owned(),
            ),
            ("APP_ENVIRONMENT".to_owned(), "test".to_owned()),
            ("PATH".to_owned(), "/usr/bin".to_owned()),
        ]);
        let settings = Settings::load(&config_dir(), Environment::Test, &vars)?;
        assert_eq!(settings.server.port, 8088);
        assert_eq!(
            settings.redis.url.expose_secret(),
            "rediss://cache.internal:6380"
        );
        assert_eq!(settings.environment, Environment::Test);
        Ok(())
    }

    #[test]
    fn list_settings_take_comma_separated_values() -> anyhow::Result<()> {
        let vars = HashMap::from([
            (
                "APP_SERVER__TRUSTED_PROXIES".to_owned(),
                "10.0.0.0/8,172.16.0.0/12".to_owned(),
            ),
            ("APP_ORDERS__RADIUS_STEP_SECS".to_owned(), "0,10".to_owned()),
            ("APP_ORDERS__RADIUS_STEPS_KM".to_owned(), "5,20".to_owned()),
            (
                "APP_AUTH__JWT_SECRET".to_owned(),
                "a secret, with commas, stays one string".to_owned(),
            ),
        ]);
        let settings = Settings::load(&config_dir(), Environment::Test, &vars)?;
        assert_eq!(
            settings.server.trusted_proxies,
            ["10.0.0.0/8", "172.16.0.0/12"]
        );
        assert_eq!(settings.orders.radius_step_secs, [0, 10]);
        assert_eq!(settings.orders.radius_steps_km, [5.0, 20.0]);
        assert_eq!(
            settings.auth.jwt_secret.expose_secret(),
            "a secret, with commas, stays one string"
        );
        Ok(())
    }

    #[test]
    fn an_unknown_key_fails_loading() {
        let vars = HashMap::from([("APP_SERVER__PROT".to_owned(), "1".to_owned())]);
        let loaded = Settings::load(&config_dir(), Environment::Local, &vars);
        assert!(loaded.is_err(), "a misspelt key must not load");
    }

    #[test]
    fn local_and_test_load_from_the_files_alone() -> anyhow::Result<()> {
        for environment in [Environment::Local, Environment::Test] {
            let settings = Settings::load(&config_dir(), environment, &HashMap::new())?;
            assert_eq!(settings.environment, environment);
        }
        Ok(())
    }

    #[test]
    fn production_takes_its_urls_from_the_environment_only() -> anyhow::Result<()> {
        let bare = Settings::load(&config_dir(), Environment::Production, &HashMap::new());
        assert!(
            bare.is_err(),
            "production must not fall back to a URL in a file"
        );
        let mut vars = production_vars();
        vars.remove("APP_AUTH__JWT_SECRET");
        let error = Settings::load(&config_dir(), Environment::Production, &vars)
            .err()
            .map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.contains("jwt_secret")),
            "production must refuse to start without a JWT secret: {error:?}"
        );
        let settings = Settings::load(&config_dir(), Environment::Production, &production_vars())?;
        assert_eq!(settings.environment, Environment::Production);
        assert!(!settings.auth.expose_otp);
        Ok(())
    }

    fn production_vars() -> HashMap<String, String> {
        HashMap::from([
            (
                "APP_DATABASE__URL".to_owned(),
                "postgres://weelo@db/weelo".to_owned(),
            ),
            (
                "APP_REDIS__URL".to_owned(),
                "rediss://cache:6380".to_owned(),
            ),
            ("APP_AUTH__JWT_SECRET".to_owned(), "p".repeat(48)),
            (
                "APP_SMS__ALLOW_LOGGING_SENDER".to_owned(),
                "true".to_owned(),
            ),
            ("APP_PUSH__ALLOW_LOG_PROVIDER".to_owned(), "true".to_owned()),
        ])
    }

    #[test]
    fn an_unnamed_environment_is_production() {
        let unset = HashMap::from([("PATH".to_owned(), "/usr/bin".to_owned())]);
        assert_eq!(
            Environment::from_vars(&unset).ok(),
            Some(Environment::Production)
        );
        let named = HashMap::from([("APP_ENVIRONMENT".to_owned(), "local".to_owned())]);
        assert_eq!(
            Environment::from_vars(&named).ok(),
            Some(Environment::Local)
        );
    }

    #[test]
    fn production_refuses_a_secret_written_in_the_config_folder() {
        for written in [
            "local-development-secret-not-for-production-use",
            "test-suite-secret-at-least-32-bytes-long",
        ] {
            let mut vars = production_vars();
            vars.insert("APP_AUTH__JWT_SECRET".to_owned(), written.to_owned());
            let error = Settings::load(&config_dir(), Environment::Production, &vars)
                .err()
                .map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|e| e.contains("written in")),
                "{written}: {error:?}"
            );
        }
    }

    #[test]
    fn production_refuses_the_logging_sms_sender_unless_allowed() {
        let mut vars = production_vars();
        vars.remove("APP_SMS__ALLOW_LOGGING_SENDER");
        let error = Settings::load(&config_dir(), Environment::Production, &vars)
            .err()
            .map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.contains("sms.provider")),
            "{error:?}"
        );
    }

    #[test]
    fn production_refuses_the_logging_push_provider_unless_allowed() {
        let mut vars = production_vars();
        vars.remove("APP_PUSH__ALLOW_LOG_PROVIDER");
        let error = Settings::load(&config_dir(), Environment::Production, &vars)
            .err()
            .map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("push.provider")),
            "{error:?}"
        );
        let mut fcm = production_vars();
        fcm.remove("APP_PUSH__ALLOW_LOG_PROVIDER");
        fcm.insert("APP_PUSH__PROVIDER".to_owned(), "fcm".to_owned());
        let error = Settings::load(&config_dir(), Environment::Production, &fcm)
            .err()
            .map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("fcm_credentials_file")),
            "{error:?}"
        );
        fcm.insert(
            "APP_PUSH__FCM_CREDENTIALS_FILE".to_owned(),
            "/etc/weelo/fcm.json".to_owned(),
        );
        let settings = Settings::load(&config_dir(), Environment::Production, &fcm);
        assert!(settings.is_ok(), "{:?}", settings.err());
    }

    #[test]
    fn a_short_secret_or_exposed_otps_in_production_fail_loading() {
        let mut short = production_vars();
        short.insert("APP_AUTH__JWT_SECRET".to_owned(), "too-short".to_owned());
        let error = Settings::load(&config_dir(), Environment::Production, &short).err();
        assert!(error.is_some_and(|e| e.to_string().contains("at least 32 bytes")));
        let mut exposed = production_vars();
        exposed.insert("APP_AUTH__EXPOSE_OTP".to_owned(), "true".to_owned());
        let error = Settings::load(&config_dir(), Environment::Production, &exposed).err();
        assert!(error.is_some_and(|e| e.to_string().contains("expose_otp")));
    }
}
