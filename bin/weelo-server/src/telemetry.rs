//! Logs: an `EnvFilter` (from `RUST_LOG`, else the configured filter) and a
//! text or JSON formatter.

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LogSettings};

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter =
        EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&settings.filter))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let installed = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("could not install the log subscriber: {e}"))
}
