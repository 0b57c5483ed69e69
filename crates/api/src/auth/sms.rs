//! OTP delivery. Production plugs in a provider behind [`SmsSender`]; the
//! sender shipped logs that an OTP went out (to a masked number, never the
//! OTP itself).

use futures_util::future::BoxFuture;
use serde::Deserialize;

use super::Phone;

/// Why an SMS could not be sent.
#[derive(Debug, thiserror::Error)]
#[error("the SMS provider failed: {0}")]
pub struct SmsError(pub String);

/// Sends OTPs by SMS.
pub trait SmsSender: Send + Sync {
    /// Sends `otp` to `to`; `purpose` names the flow for the provider's template.
    fn send_otp<'a>(
        &'a self,
        to: &'a Phone,
        otp: &'a str,
        purpose: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>>;
}

/// Logs each send; delivers nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoggingSmsSender;

impl SmsSender for LoggingSmsSender {
    fn send_otp<'a>(
        &'a self,
        to: &'a Phone,
        _otp: &'a str,
        purpose: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            tracing::info!(sms.to = %to, otp.purpose = purpose, "OTP sent (logging SMS sender)");
            Ok(())
        })
    }
}

/// Which SMS provider sends OTPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    /// [`LoggingSmsSender`]: logs a masked number, delivers nothing.
    Log,
}

/// The `[sms]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// Who delivers OTPs.
    pub provider: SmsProvider,
    /// Outside local and test the logging sender would lock every real user
    /// out; the server refuses it unless this says an operator chose it
    /// (a staging box), and then warns loudly at start-up.
    pub allow_logging_sender: bool,
}
