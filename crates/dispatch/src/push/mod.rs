//! Push notifications: every event a recipient's app handles in the
//! background also goes to their devices when no socket of theirs is live
//! (the shipped driver app opens none: push is its only channel).
//!
//! - The decision of what is pushed to whom, and the message, live beside
//!   the events ([`crate::events::push`]).
//! - [`settings`]: the `[push]` section.
//! - [`sender`]: the provider trait and the logging default.
//! - [`fcm`]: Firebase Cloud Messaging HTTP v1, behind a [`crate::breaker`].
//! - [`live`]: who has a live socket on any instance.
//! - [`worker`]: the durable jobs claimed, sent and settled.
//! - [`metrics`]: the figures.

pub mod fcm;
pub mod live;
pub mod metrics;
pub mod sender;
pub mod settings;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use weelo_cache::Cache;
use weelo_orders::Clock;

pub use live::LiveSockets;
pub use metrics::PushMetrics;
pub use sender::{LogSender, PushSender, Sent};
pub use settings::{PushProvider, PushSettings};

use crate::breaker::Breaker;
use fcm::{FcmSender, FcmSetupError};

/// The push machinery of one instance. Cheap to clone.
#[derive(Clone)]
pub struct Push {
    /// `[push]`.
    pub settings: Arc<PushSettings>,
    /// The provider.
    pub sender: Arc<dyn PushSender>,
    /// Who has a live socket.
    pub live: LiveSockets,
    /// The figures.
    pub metrics: PushMetrics,
    /// Wakes this instance's workers after a commit here.
    pub wake: Arc<tokio::sync::Notify>,
}

impl Push {
    /// The machinery over `sender`.
    pub fn new(
        settings: PushSettings,
        sender: Arc<dyn PushSender>,
        metrics: PushMetrics,
        cache: Cache,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let live = LiveSockets::new(cache, clock, settings.socket_claim());
        Self {
            settings: Arc::new(settings),
            sender,
            live,
            metrics,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

/// The provider `settings` name.
pub fn sender_for(settings: &PushSettings) -> Result<Arc<dyn PushSender>, FcmSetupError> {
    Ok(match settings.provider {
        PushProvider::Log => Arc::new(LogSender),
        PushProvider::Fcm => {
            let Some(file) = &settings.fcm_credentials_file else {
                return Err(FcmSetupError::Read {
                    path: "(not set)".to_owned(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "push.provider = \"fcm\" needs push.fcm_credentials_file",
                    ),
                });
            };
            Arc::new(FcmSender::from_file(
                file,
                &settings.fcm_base_url,
                Duration::from_millis(settings.request_timeout_ms.max(1)),
                Breaker::new(
                    settings.breaker_failures,
                    Duration::from_secs(settings.breaker_open_secs),
                ),
            )?)
        }
    })
}
