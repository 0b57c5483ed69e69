//! The hardening issue: each module tries the server as an attacker or an
//! operator would and checks that it holds.

mod arithmetic;
mod database;
mod events;
mod headers;
mod metrics;
mod otp;
mod proxy;
mod pruning;
mod realtime_limits;
mod redis_hang;
mod sockets;
mod user_limits;

use std::collections::HashMap;

use weelo_server::{Environment, Settings};
use weelo_test_support::config_dir;

/// Production's settings as an operator would give them, plus `extra`
/// `APP_…` overrides.
pub fn production_settings(extra: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let mut vars = HashMap::from([
        (
            "APP_DATABASE__URL".to_owned(),
            "postgres://weelo@db/weelo".to_owned(),
        ),
        (
            "APP_REDIS__URL".to_owned(),
            "rediss://cache:6380".to_owned(),
        ),
        ("APP_AUTH__JWT_SECRET".to_owned(), "q".repeat(48)),
        (
            "APP_SMS__ALLOW_LOGGING_SENDER".to_owned(),
            "true".to_owned(),
        ),
        ("APP_PUSH__ALLOW_LOG_PROVIDER".to_owned(), "true".to_owned()),
    ]);
    for (key, value) in extra {
        vars.insert((*key).to_owned(), (*value).to_owned());
    }
    Settings::load(&config_dir(), Environment::Production, &vars)
}
