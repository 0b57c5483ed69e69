//! [`PushSender`]: the provider behind the push workers, and what one send
//! came to. [`LogSender`] is the embedded default: it logs and sends
//! nothing.

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::events::push::PushMessage;
use crate::wire::mask_token;

/// What one send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The provider took it.
    Delivered,
    /// The token is no longer valid (`UNREGISTERED`, a malformed token):
    /// it is deleted, and the user's other tokens stay.
    TokenGone,
    /// Try again later, no sooner than `after` when the provider said.
    Retry {
        /// `Retry-After`, when given.
        after: Option<Duration>,
    },
    /// It will never go through (a refused message); dropped and counted.
    Failed(String),
}

/// Sends one push to one device token.
pub trait PushSender: Send + Sync {
    /// The provider's name, for logs and metrics.
    fn name(&self) -> &'static str;

    /// Sends `message` to `token`.
    fn send<'a>(&'a self, token: &'a str, message: &'a PushMessage) -> BoxFuture<'a, Sent>;
}

/// Logs each push (masked token, type) and sends nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSender;

impl PushSender for LogSender {
    fn name(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, token: &'a str, message: &'a PushMessage) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            tracing::info!(
                push.token = %mask_token(token),
                push.kind = %message.kind,
                push.priority = message.priority.as_str(),
                "push (logging provider: nothing sent)"
            );
            Sent::Delivered
        })
    }
}
