//! Real SMS providers behind [`SmsSender`]: MSG91 (India's DLT rules: the
//! message goes out on a template registered with the operator's entity,
//! through MSG91's Flow API) and Twilio (Programmable Messaging). Each call
//! has a timeout and is retried on a 5xx or no answer (twice, briefly); a
//! refusal is not retried. Credentials come from `[sms]`; none is logged.

use std::time::Duration;

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::Phone;
use super::sms::{SmsError, SmsSender, SmsSettings};

/// Waits before the retries after a 5xx or no answer.
const RETRY_WAITS: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(600)];

/// What one attempt came to.
enum Attempt {
    Sent,
    /// Worth another try (5xx, timeout, no connection).
    Retry(String),
    /// Not worth another (a refusal).
    Refused(String),
}

async fn with_retries<F, Fut>(mut attempt: F) -> Result<(), SmsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt>,
{
    let mut last = String::new();
    for wait in std::iter::once(None).chain(RETRY_WAITS.iter().copied().map(Some)) {
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
        match attempt().await {
            Attempt::Sent => return Ok(()),
            Attempt::Refused(why) => return Err(SmsError(why)),
            Attempt::Retry(why) => last = why,
        }
    }
    Err(SmsError(last))
}

fn transport(error: &reqwest::Error) -> Attempt {
    Attempt::Retry(format!("no answer: {error}"))
}

/// MSG91's Flow API (`POST {base}/api/v5/flow`, header `authkey`).
pub struct Msg91Sender {
    client: reqwest::Client,
    url: String,
    auth_key: SecretString,
    template_id: String,
    sender: String,
    dlt_template_id: String,
    dlt_entity_id: String,
}

impl Msg91Sender {
    fn new(client: reqwest::Client, settings: &SmsSettings) -> Result<Self, String> {
        let need = |value: &Option<String>, name: &str| {
            value
                .clone()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("sms.provider = \"msg91\" needs sms.{name}"))
        };
        Ok(Self {
            client,
            url: format!(
                "{}/api/v5/flow",
                settings.msg91_base_url.trim_end_matches('/')
            ),
            auth_key: settings
                .msg91_auth_key
                .clone()
                .ok_or("sms.provider = \"msg91\" needs sms.msg91_auth_key")?,
            template_id: need(&settings.msg91_template_id, "msg91_template_id")?,
            sender: need(&settings.msg91_sender, "msg91_sender")?,
            dlt_template_id: need(&settings.dlt_template_id, "dlt_template_id")?,
            dlt_entity_id: need(&settings.dlt_entity_id, "dlt_entity_id")?,
        })
    }

    async fn attempt(&self, body: &Value) -> Attempt {
        let response = match self
            .client
            .post(&self.url)
            .header("authkey", self.auth_key.expose_secret())
            .json(body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return transport(&error),
        };
        let status = response.status();
        if status.is_server_error() {
            return Attempt::Retry(format!("msg91 answered {status}"));
        }
        // MSG91 answers 200 with `type: error` for a refusal.
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() && answer["type"] == "success" {
            Attempt::Sent
        } else {
            Attempt::Refused(format!(
                "msg91 refused ({status}): {}",
                answer["message"].as_str().unwrap_or("no reason given")
            ))
        }
    }
}

impl SmsSender for Msg91Sender {
    fn send_otp<'a>(
        &'a self,
        to: &'a Phone,
        otp: &'a str,
        _purpose: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            let body = json!({
                "template_id": self.template_id,
                "sender": self.sender,
                "short_url": "0",
                "DLT_TE_ID": self.dlt_template_id,
                "PE_ID": self.dlt_entity_id,
                "recipients": [{ "mobiles": format!("91{}", to.digits()), "otp": otp }],
            });
            with_retries(|| self.attempt(&body)).await
        })
    }
}

/// Twilio's Messages resource (`POST {base}/2010-04-01/Accounts/{sid}/
/// Messages.json`, HTTP Basic with the account SID and auth token).
pub struct TwilioSender {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: SecretString,
    from: String,
}

impl TwilioSender {
    fn new(client: reqwest::Client, settings: &SmsSettings) -> Result<Self, String> {
        let account_sid = settings
            .twilio_account_sid
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or("sms.provider = \"twilio\" needs sms.twilio_account_sid")?;
        Ok(Self {
            client,
            url: format!(
                "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
                settings.twilio_base_url.trim_end_matches('/')
            ),
            account_sid,
            auth_token: settings
                .twilio_auth_token
                .clone()
                .ok_or("sms.provider = \"twilio\" needs sms.twilio_auth_token")?,
            from: settings
                .twilio_from
                .clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or("sms.provider = \"twilio\" needs sms.twilio_from")?,
        })
    }

    async fn attempt(&self, form: &[(&str, String)]) -> Attempt {
        let response = match self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(form)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return transport(&error),
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Sent;
        }
        if status.is_server_error() {
            return Attempt::Retry(format!("twilio answered {status}"));
        }
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        Attempt::Refused(format!(
            "twilio refused ({status}, code {}): {}",
            answer["code"],
            answer["message"].as_str().unwrap_or("no reason given")
        ))
    }
}

impl SmsSender for TwilioSender {
    fn send_otp<'a>(
        &'a self,
        to: &'a Phone,
        otp: &'a str,
        _purpose: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            // A Messaging Service SID (`MG…`) or a number to send from.
            let sender_key = if self.from.starts_with("MG") {
                "MessagingServiceSid"
            } else {
                "From"
            };
            let form = [
                ("To", format!("+91{}", to.digits())),
                (sender_key, self.from.clone()),
                (
                    "Body",
                    format!("{otp} is your Weelo verification code. It expires in 5 minutes."),
                ),
            ];
            with_retries(|| self.attempt(&form)).await
        })
    }
}

/// The sender `settings` choose (`None` for the logging one).
pub fn sender_for(settings: &SmsSettings) -> Result<Option<Box<dyn SmsSender>>, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.request_timeout_ms))
        .build()
        .map_err(|e| e.to_string())?;
    Ok(match settings.provider {
        super::sms::SmsProvider::Log => None,
        super::sms::SmsProvider::Msg91 => Some(Box::new(Msg91Sender::new(client, settings)?)),
        super::sms::SmsProvider::Twilio => Some(Box::new(TwilioSender::new(client, settings)?)),
    })
}
