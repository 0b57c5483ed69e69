//! The OTP and session steps every login and onboarding flow shares:
//! issue an OTP under the limits, consume a guess under the attempt limit,
//! and open a session with its tokens.
//!
//! OTP state lives in PostgreSQL only (`otp_challenges`): the limits are
//! enforced by single statements there, so a Redis loss can neither lock
//! people out nor lift a limit.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use weelo_dispatch::accounts::sessions;
use weelo_dispatch::accounts::{self, Guess, GuessLimits, IssueLimits, IssueRefused};
use weelo_persistence::otp::{Check, IssueRequest, Throttle};
use weelo_persistence::sessions::NewSession;
use weelo_persistence::users::User;

use super::tokens::AccessClaims;
use super::{AuthError, Phone, Role};
use crate::{ApiError, AppState};

/// What the OTP protects (stored as `otp_challenges.purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpPurpose {
    /// A customer login.
    Customer,
    /// A transporter login.
    Transporter,
    /// A driver login (the SMS goes to the transporter).
    DriverLogin,
    /// A transporter adding a driver (the SMS goes to the driver).
    DriverOnboard,
}

impl OtpPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Transporter => "transporter",
            Self::DriverLogin => "driver_login",
            Self::DriverOnboard => "driver_onboard",
        }
    }
}

/// An OTP that went out.
#[derive(Debug)]
pub struct SentOtp {
    /// The OTP itself: only for `data.otp` when `expose_otp` is on.
    pub otp: String,
    /// When it dies.
    pub expires_at: DateTime<Utc>,
}

/// Stores a new OTP for `phone` (cooldown and send limit counted per that
/// phone) and sends it to `deliver_to`.
pub async fn send_otp(
    state: &AppState,
    phone: &Phone,
    purpose: OtpPurpose,
    deliver_to: &Phone,
    requested_by: Option<Uuid>,
    pending_profile: Option<serde_json::Value>,
) -> Result<SentOtp, ApiError> {
    let otp = super::TokenKeys::new_otp();
    let otp_hash = state
        .auth
        .keys
        .hash_otp(purpose.as_str(), phone.digits(), &otp);
    let request = IssueRequest {
        phone: phone.digits(),
        purpose: purpose.as_str(),
        otp_hash: &otp_hash,
        requested_by,
        pending_profile,
    };
    let expires_at = issue_under_limits(state, &request).await?;
    if let Err(error) = state
        .auth
        .sms
        .send_otp(deliver_to, &otp, purpose.as_str())
        .await
    {
        tracing::error!(error = %error, otp.purpose = purpose.as_str(), "OTP delivery failed; the OTP is withdrawn");
        // Nothing reached the phone: the code dies and the phone's
        // cooldown and send count are given back.
        if let Err(undo) =
            accounts::withdraw_otp(&state.dispatch, phone.digits(), purpose.as_str(), &otp_hash)
                .await
        {
            tracing::error!(error = %undo, "an undelivered OTP could not be withdrawn");
        }
        return Err(AuthError::OtpSendFailed.into());
    }
    Ok(SentOtp { otp, expires_at })
}

/// Stores the challenge unless the phone is locked, the cooldown or send
/// limit forbids it, or the service-wide SMS budget is spent; the budget is
/// taken in the same transaction, so a refused send stores no OTP and starts
/// no cooldown.
async fn issue_under_limits(
    state: &AppState,
    request: &IssueRequest<'_>,
) -> Result<DateTime<Utc>, ApiError> {
    let settings = &state.auth.settings;
    let now = state.clock.now();
    let limits = IssueLimits {
        per_phone: settings.send_limits(),
        sms_budget: settings.sms_budget(),
    };
    match accounts::issue_otp(&state.dispatch, request, limits).await? {
        Ok(expires_at) => Ok(expires_at),
        Err(IssueRefused::BudgetSpent) => {
            state.metrics.sms_budget_exhausted();
            tracing::error!(
                sms.budget_per_minute = settings.sms_budget_per_minute,
                "the SMS budget is spent: OTP sends answer 503 until the minute ends"
            );
            Err(AuthError::SmsBudgetExhausted.into())
        }
        Err(IssueRefused::Locked(until)) => Err(AuthError::OtpLocked {
            retry_after_ms: millis_until(until, now),
        }
        .into()),
        Err(IssueRefused::Throttled(throttle)) => Err(throttled(throttle).into()),
    }
}

fn millis_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_milliseconds())
        .unwrap_or(1)
        .max(1)
}

/// Which OTP call a client address is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpCall {
    /// `send-otp` of any role.
    Send,
    /// `verify-otp` of any role.
    Verify,
}

/// Counts one OTP call from `client` against the per-address limit; a 429
/// once the window's calls are used up. Kept in PostgreSQL: never lifted by
/// a Redis outage.
pub async fn limit_client(
    state: &AppState,
    client: std::net::IpAddr,
    call: OtpCall,
) -> Result<(), ApiError> {
    let settings = &state.auth.settings;
    let (key, limit) = match call {
        OtpCall::Send => (format!("otp-send:{client}"), settings.sends_per_ip()),
        OtpCall::Verify => (format!("otp-verify:{client}"), settings.verifies_per_ip()),
    };
    sessions::hit_limit(&state.dispatch, &key, limit)
        .await?
        .map_err(|retry_after| {
            ApiError::from(AuthError::ClientRateLimited {
                retry_after_ms: u64::try_from(retry_after.num_milliseconds())
                    .unwrap_or(1)
                    .max(1),
            })
        })
}

/// Stores a challenge for `phone` under the same lock, cooldown, limits and
/// budget as a real send, with the hash of an OTP that goes nowhere: a flow
/// that must not reveal whether `phone` has an account answers exactly as if
/// it had.
pub async fn store_decoy_otp(
    state: &AppState,
    phone: &Phone,
    purpose: OtpPurpose,
) -> Result<(), ApiError> {
    let unsent = super::TokenKeys::new_otp();
    let otp_hash = state
        .auth
        .keys
        .hash_otp(purpose.as_str(), phone.digits(), &unsent);
    let request = IssueRequest {
        phone: phone.digits(),
        purpose: purpose.as_str(),
        otp_hash: &otp_hash,
        requested_by: None,
        pending_profile: None,
    };
    issue_under_limits(state, &request).await?;
    Ok(())
}

fn throttled(throttle: Throttle) -> AuthError {
    let retry_after = match throttle {
        Throttle::Cooldown { retry_after } | Throttle::SendLimit { retry_after } => retry_after,
    };
    AuthError::OtpThrottled {
        retry_after_ms: u64::try_from(retry_after.num_milliseconds())
            .unwrap_or(1)
            .max(1),
    }
}

impl SentOtp {
    /// Adds `otp` to a send answer's `data` when `auth.expose_otp` is on
    /// (debug builds and tests); never otherwise.
    pub fn expose_into(&self, state: &AppState, data: &mut serde_json::Value) {
        if state.auth.settings.expose_otp {
            data["otp"] = serde_json::Value::String(self.otp.clone());
        }
    }
}

/// What a consumed OTP carried.
#[derive(Debug)]
pub struct Accepted {
    /// Who asked for it.
    pub requested_by: Option<Uuid>,
    /// The details stored with it.
    pub pending_profile: Option<serde_json::Value>,
}

/// Checks `guess` for `phone`; a right guess uses the OTP up, a wrong one
/// is counted (committed even though the call fails).
pub async fn consume_otp(
    state: &AppState,
    phone: &Phone,
    purpose: OtpPurpose,
    guess: &str,
) -> Result<Accepted, ApiError> {
    let now = state.clock.now();
    let keys = &state.auth.keys;
    let settings = &state.auth.settings;
    let matches = |stored: &str| keys.otp_matches(purpose.as_str(), phone.digits(), guess, stored);
    let limits = GuessLimits {
        max_attempts: settings.otp_max_attempts,
        lockout: settings.lockout_policy(),
    };
    let guessed = accounts::check_otp(
        &state.dispatch,
        phone.digits(),
        purpose.as_str(),
        matches,
        limits,
    )
    .await?;
    let checked = match guessed {
        Guess::Checked(checked) => checked,
        Guess::Locked(until) => {
            tracing::warn!(
                otp.purpose = purpose.as_str(),
                "a phone is locked after wrong OTPs"
            );
            return Err(AuthError::OtpLocked {
                retry_after_ms: millis_until(until, now),
            }
            .into());
        }
    };
    match checked {
        Check::Accepted {
            requested_by,
            pending_profile,
        } => Ok(Accepted {
            requested_by,
            pending_profile,
        }),
        Check::NotRequested => Err(AuthError::OtpNotRequested.into()),
        Check::Expired => Err(AuthError::OtpExpired.into()),
        Check::Wrong => Err(AuthError::InvalidOtp.into()),
        Check::LastWrong | Check::TooManyAttempts => Err(AuthError::OtpMaxAttempts.into()),
    }
}

/// The tokens of a new session.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionTokens {
    /// The signed access token.
    pub access_token: String,
    /// The opaque refresh token.
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

/// Device details sent at login.
#[derive(Debug, Default)]
pub struct Device<'a> {
    /// `deviceId`.
    pub id: Option<&'a str>,
    /// `deviceName`.
    pub name: Option<&'a str>,
}

/// Opens a session for `user` and signs its first access token; the
/// session is remembered as live at once.
pub async fn open_session(
    state: &AppState,
    user: &User,
    device: Device<'_>,
) -> Result<SessionTokens, ApiError> {
    if !user.is_active {
        return Err(AuthError::AccountDisabled.into());
    }
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::internal(format!("user {} has an unknown role", user.id)))?;
    let now = state.clock.now();
    let refresh_token = super::TokenKeys::new_refresh_token();
    let refresh_hash = state.auth.keys.hash_refresh_token(&refresh_token);
    let session = sessions::open(
        &state.dispatch,
        &NewSession {
            user_id: user.id,
            refresh_token_hash: &refresh_hash,
            device_id: device.id,
            device_name: device.name,
            expires_at: now + state.auth.settings.refresh_ttl(),
            created_at: now,
        },
    )
    .await?;
    // Committed (the callers hold no transaction): this instance knows the
    // session is live without reading it back on the first request.
    state.auth.sessions.remember(session.id, user.id, now);
    let access_token = sign_access(state, user.id, role, session.id, now)?;
    Ok(SessionTokens {
        access_token,
        refresh_token,
        expires_in: state.auth.settings.access_token_ttl_secs,
    })
}

/// Signs an access token for a session.
pub fn sign_access(
    state: &AppState,
    user_id: Uuid,
    role: Role,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let claims = AccessClaims {
        sub: user_id,
        role,
        sid: session_id,
        jti: Uuid::new_v4(),
        iat: now.timestamp(),
        exp: (now + state.auth.settings.access_ttl()).timestamp(),
    };
    state
        .auth
        .keys
        .sign_access(&claims)
        .map_err(|error| ApiError::internal(format!("signing an access token: {error}")))
}
