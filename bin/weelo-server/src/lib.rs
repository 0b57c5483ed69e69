//! The weelo server as a library, so tests start exactly what production
//! runs: [`settings`] loads the layered configuration (the `[realtime]`
//! section in [`realtime_settings`]), [`telemetry`] sets up
//! logs, and [`startup::Application`] migrates, builds the pools, binds and
//! serves; [`kyc`] is the operator's KYC subcommand. `main.rs` only calls
//! these.

pub mod kyc;
pub mod realtime_settings;
pub mod settings;
pub mod startup;
pub mod telemetry;

/// Re-exported so tests can stop a server without depending on actix-web.
pub use actix_web::dev::ServerHandle;
pub use settings::{Environment, Settings};
pub use startup::Application;
pub use weelo_dispatch::broadcast::DispatchJobs;
pub use weelo_dispatch::orders::Expiry;
pub use weelo_orders::{Clock, ManualClock, SystemClock};
