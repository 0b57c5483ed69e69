//! OTP delivery. Production plugs in a provider behind [`SmsSender`]; the
//! sender shipped logs that an OTP went out (to a masked number, never the
//! OTP itself).

use futures_util::future::BoxFuture;

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
