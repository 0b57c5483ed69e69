//! The `[auth]` section: token lifetimes, OTP limits and the signing secret.

use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use weelo_persistence::limits::WindowLimit;

/// The shortest signing secret accepted (HS256 wants at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Authentication settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Signs access tokens and keys the hashes of OTPs and refresh tokens; at
    /// least 32 bytes. No default: production must supply `APP_AUTH__JWT_SECRET`.
    pub jwt_secret: SecretString,
    /// Life of an access token. The customer app treats a token as expired
    /// 300 s early, so this must stay well above that.
    pub access_token_ttl_secs: i64,
    /// Life of a refresh token (not rotated on use: the apps keep the first).
    pub refresh_token_ttl_days: i64,
    /// Life of an OTP.
    pub otp_ttl_secs: i64,
    /// Least time between two OTP sends to one phone.
    pub otp_resend_cooldown_secs: i64,
    /// Most OTP sends to one phone per window.
    pub otp_max_sends: i32,
    /// The send-limit window.
    pub otp_send_window_secs: i64,
    /// Wrong guesses that kill an OTP.
    pub otp_max_attempts: i32,
    /// Wrong guesses for one phone within `otp_lock_window_secs` that lock
    /// its login (the count survives resends and clears on a right guess).
    pub otp_lock_after_failures: i32,
    /// The window wrong guesses are counted over.
    pub otp_lock_window_secs: i64,
    /// How long a locked phone stays locked.
    pub otp_lock_secs: i64,
    /// `send-otp` calls (every role) one client address may make per
    /// `otp_ip_window_secs`.
    pub otp_sends_per_ip: i32,
    /// `verify-otp` calls (every role) one client address may make per
    /// `otp_ip_window_secs`.
    pub otp_verifies_per_ip: i32,
    /// The per-address window.
    pub otp_ip_window_secs: i64,
    /// OTP messages the whole service sends per minute; past it sends answer
    /// 503 `SMS_BUDGET_EXHAUSTED` (a pumping attack costs money, not users).
    pub sms_budget_per_minute: i32,
    /// How long a session found live is trusted without asking PostgreSQL
    /// again on this instance (logout elsewhere takes at most this long to
    /// reach it); 0 checks every request.
    pub session_cache_secs: i64,
    /// Return the OTP in the send answers (`data.otp`), for debug builds and
    /// tests. Refused in production.
    pub expose_otp: bool,
}

/// Why the auth settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthSettingsError {
    /// The secret is too short to sign with.
    #[error("auth.jwt_secret must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    /// A duration or limit is zero or negative.
    #[error("auth.{0} must be positive")]
    NotPositive(&'static str),
    /// A limit window longer than the cleanup job keeps its counters.
    #[error("auth.otp_lock_window_secs and auth.otp_ip_window_secs must be at most 7 days")]
    WindowTooLong,
    /// The access token would look expired to the customer app at once.
    #[error("auth.access_token_ttl_secs must exceed 300: the customer app refreshes 300 s early")]
    AccessTokenTooShort,
}

impl AuthSettings {
    /// Checks the values; the server refuses to start on an error.
    pub fn validate(&self) -> Result<(), AuthSettingsError> {
        if self.jwt_secret.expose_secret().len() < MIN_SECRET_BYTES {
            return Err(AuthSettingsError::SecretTooShort);
        }
        let positive = [
            ("access_token_ttl_secs", self.access_token_ttl_secs),
            ("refresh_token_ttl_days", self.refresh_token_ttl_days),
            ("otp_ttl_secs", self.otp_ttl_secs),
            ("otp_send_window_secs", self.otp_send_window_secs),
            ("otp_max_sends", i64::from(self.otp_max_sends)),
            ("otp_max_attempts", i64::from(self.otp_max_attempts)),
            (
                "otp_lock_after_failures",
                i64::from(self.otp_lock_after_failures),
            ),
            ("otp_lock_window_secs", self.otp_lock_window_secs),
            ("otp_lock_secs", self.otp_lock_secs),
            ("otp_sends_per_ip", i64::from(self.otp_sends_per_ip)),
            ("otp_verifies_per_ip", i64::from(self.otp_verifies_per_ip)),
            ("otp_ip_window_secs", self.otp_ip_window_secs),
            (
                "sms_budget_per_minute",
                i64::from(self.sms_budget_per_minute),
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value <= 0) {
            return Err(AuthSettingsError::NotPositive(name));
        }
        if self.otp_resend_cooldown_secs < 0 {
            return Err(AuthSettingsError::NotPositive("otp_resend_cooldown_secs"));
        }
        // The cleanup job keeps counters and lockouts for 8 days.
        let week = 7 * 86_400;
        if self.otp_lock_window_secs > week || self.otp_ip_window_secs > week {
            return Err(AuthSettingsError::WindowTooLong);
        }
        if self.access_token_ttl_secs <= 300 {
            return Err(AuthSettingsError::AccessTokenTooShort);
        }
        Ok(())
    }

    /// Life of an access token.
    pub fn access_ttl(&self) -> Duration {
        Duration::seconds(self.access_token_ttl_secs)
    }

    /// Life of a refresh token.
    pub fn refresh_ttl(&self) -> Duration {
        Duration::days(self.refresh_token_ttl_days)
    }

    /// The lock on a phone that keeps guessing wrong.
    pub fn lockout_policy(&self) -> weelo_persistence::limits::LockoutPolicy {
        weelo_persistence::limits::LockoutPolicy {
            after_failures: self.otp_lock_after_failures,
            window: Duration::seconds(self.otp_lock_window_secs),
            lock: Duration::seconds(self.otp_lock_secs),
        }
    }

    /// `send-otp` calls per client address.
    pub fn sends_per_ip(&self) -> WindowLimit {
        WindowLimit {
            max: self.otp_sends_per_ip,
            window: Duration::seconds(self.otp_ip_window_secs),
        }
    }

    /// `verify-otp` calls per client address.
    pub fn verifies_per_ip(&self) -> WindowLimit {
        WindowLimit {
            max: self.otp_verifies_per_ip,
            window: Duration::seconds(self.otp_ip_window_secs),
        }
    }

    /// OTP messages per minute, service-wide.
    pub fn sms_budget(&self) -> WindowLimit {
        WindowLimit {
            max: self.sms_budget_per_minute,
            window: Duration::minutes(1),
        }
    }

    /// The OTP send limits.
    pub fn send_limits(&self) -> weelo_persistence::otp::SendLimits {
        weelo_persistence::otp::SendLimits {
            ttl: Duration::seconds(self.otp_ttl_secs),
            cooldown: Duration::seconds(self.otp_resend_cooldown_secs),
            window: Duration::seconds(self.otp_send_window_secs),
            max_sends: self.otp_max_sends,
        }
    }
}
