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
    /// MSG91's Flow API with India's DLT template and entity ids.
    Msg91,
    /// Twilio Programmable Messaging.
    Twilio,
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
    /// One call to the provider may take this long (then it is retried).
    pub request_timeout_ms: u64,
    /// MSG91's API (`https://control.msg91.com`).
    pub msg91_base_url: String,
    /// MSG91's auth key.
    #[serde(default)]
    pub msg91_auth_key: Option<secrecy::SecretString>,
    /// The MSG91 template (its variable `otp` carries the code).
    #[serde(default)]
    pub msg91_template_id: Option<String>,
    /// The DLT-registered sender id (header), six letters.
    #[serde(default)]
    pub msg91_sender: Option<String>,
    /// The template id registered on the DLT platform.
    #[serde(default)]
    pub dlt_template_id: Option<String>,
    /// The principal entity id registered on the DLT platform.
    #[serde(default)]
    pub dlt_entity_id: Option<String>,
    /// Twilio's API (`https://api.twilio.com`).
    pub twilio_base_url: String,
    /// Twilio's account SID.
    #[serde(default)]
    pub twilio_account_sid: Option<String>,
    /// Twilio's auth token.
    #[serde(default)]
    pub twilio_auth_token: Option<secrecy::SecretString>,
    /// A number (`+1…`) or a Messaging Service SID (`MG…`) to send from.
    #[serde(default)]
    pub twilio_from: Option<String>,
}
