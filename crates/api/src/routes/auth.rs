//! Customer and transporter login by OTP, token refresh and logout.

use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use weelo_dispatch::ErrorCode;

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use serde_json::json;
use weelo_dispatch::accounts::{sessions, users};

use super::ok;
use crate::auth::login::{self, Device, OtpCall, OtpPurpose};
use crate::auth::{AuthError, Caller, Role};
use crate::client_ip::ClientIp;
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::accounts::dto::{ProfileDto, is_profile_complete};

/// Mounts `auth/*`.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("auth")
        .post(
            "/auth/send-otp",
            send_otp,
            Doc::new(
                "Send a login OTP to a customer's or transporter's phone",
                sent,
            )
            .errors(SEND_REFUSALS),
        )
        .post(
            "/auth/verify-otp",
            verify_otp,
            Doc::new("Log in with the OTP: tokens and the profile", logged_in)
                .errors(VERIFY_REFUSALS)
                .errors(&[E::OtpLocked, E::AccountDisabled]),
        )
        .post(
            "/auth/refresh",
            refresh,
            Doc::new("A new access token for a refresh token", || {
                obj(&[("accessToken", string()), ("expiresIn", int())])
            })
            .errors(&[E::InvalidRefreshToken, E::AccountDisabled]),
        )
        .post(
            "/auth/logout",
            logout,
            Doc::new("End this session", message),
        );
}

/// What sending an OTP can be refused with (its phone's limits, the
/// service's SMS budget, the provider).
pub(crate) const SEND_REFUSALS: &[ErrorCode] = &[
    ErrorCode::OtpRateLimitExceeded,
    ErrorCode::OtpLocked,
    ErrorCode::SmsBudgetExhausted,
    ErrorCode::SmsUnavailable,
];

/// What checking an OTP can be refused with.
pub(crate) const VERIFY_REFUSALS: &[ErrorCode] = &[
    ErrorCode::InvalidOtp,
    ErrorCode::OtpExpired,
    ErrorCode::OtpMaxAttempts,
    ErrorCode::OtpNotFound,
];

/// `auth/send-otp` and `driver-auth/send-otp`'s answer.
pub(crate) fn sent() -> serde_json::Value {
    obj(&[("message", string()), ("expiresIn", int())])
}

fn logged_in() -> serde_json::Value {
    obj(&[
        (
            "tokens",
            obj(&[("accessToken", string()), ("refreshToken", string())]),
        ),
        ("user", object()),
        ("isNewUser", boolean()),
        ("isProfileComplete", boolean()),
    ])
}

#[derive(Deserialize, JsonSchema)]
struct SendOtp {
    phone: String,
    role: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct VerifyOtp {
    phone: String,
    otp: String,
    role: String,
    device_id: Option<String>,
    device_name: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Refresh {
    refresh_token: String,
}

/// `customer` or `transporter`: drivers log in through `driver-auth`.
fn login_role(raw: &str) -> Result<(Role, OtpPurpose), ApiError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "customer" => Ok((Role::Customer, OtpPurpose::Customer)),
        "transporter" => Ok((Role::Transporter, OtpPurpose::Transporter)),
        "driver" => Err(ApiError::invalid_field(
            "role",
            "drivers log in through driver-auth/send-otp",
        )),
        _ => Err(ApiError::invalid_field(
            "role",
            "role must be customer or transporter",
        )),
    }
}

async fn send_otp(
    state: web::Data<AppState>,
    client: ClientIp,
    body: ApiJson<SendOtp>,
) -> Result<HttpResponse, ApiError> {
    let phone = validate::phone("phone", &body.phone)?;
    let (_, purpose) = login_role(&body.role)?;
    login::limit_client(&state, client.0, OtpCall::Send).await?;
    let sent = login::send_otp(&state, &phone, purpose, &phone, None, None).await?;
    let settings = &state.auth.settings;
    let mut data = json!({
        "message": format!("OTP sent to {}", phone.masked()),
        "expiresIn": settings.otp_ttl_secs,
        "expiresAt": weelo_dispatch::wire::iso(sent.expires_at),
        "resendAfterSeconds": settings.otp_resend_cooldown_secs,
    });
    sent.expose_into(&state, &mut data);
    Ok(ok(data))
}

async fn verify_otp(
    state: web::Data<AppState>,
    client: ClientIp,
    body: ApiJson<VerifyOtp>,
) -> Result<HttpResponse, ApiError> {
    let phone = validate::phone("phone", &body.phone)?;
    let otp = validate::otp("otp", &body.otp)?;
    let (role, purpose) = login_role(&body.role)?;
    let device_id = validate::text("deviceId", body.device_id.as_deref(), 128)?;
    let device_name = validate::text("deviceName", body.device_name.as_deref(), 128)?;
    login::limit_client(&state, client.0, OtpCall::Verify).await?;
    login::consume_otp(&state, &phone, purpose, &otp).await?;
    let (user, is_new) = users::find_or_create(&state.dispatch, phone.digits(), role).await?;
    let device = Device {
        id: device_id.as_deref(),
        name: device_name.as_deref(),
    };
    let tokens = login::open_session(&state, &user, device).await?;
    tracing::info!(user.id = %user.id, user.role = role.as_str(), user.is_new = is_new, "logged in");
    Ok(ok(json!({
        "tokens": tokens,
        "user": ProfileDto::from(&user),
        "isNewUser": is_new,
        "isProfileComplete": is_profile_complete(&user),
        "preferredLanguage": user.preferred_language,
    })))
}

async fn refresh(
    state: web::Data<AppState>,
    body: ApiJson<Refresh>,
) -> Result<HttpResponse, ApiError> {
    let token = body.refresh_token.trim();
    if token.is_empty() || token.len() > 256 {
        return Err(ApiError::invalid_field(
            "refreshToken",
            "refreshToken is required",
        ));
    }
    let now = state.clock.now();
    let hash = state.auth.keys.hash_refresh_token(token);
    let session = sessions::find_by_refresh_hash(&state.dispatch, &hash)
        .await?
        .ok_or(AuthError::InvalidRefreshToken)?;
    let user = users::find(&state.dispatch, session.user_id)
        .await?
        .ok_or(AuthError::InvalidRefreshToken)?;
    if !user.is_active {
        return Err(AuthError::AccountDisabled.into());
    }
    let role = Role::parse(&user.role).ok_or(AuthError::InvalidRefreshToken)?;
    let access_token = login::sign_access(&state, user.id, role, session.id, now)?;
    Ok(ok(json!({
        "accessToken": access_token,
        "expiresIn": state.auth.settings.access_token_ttl_secs,
    })))
}

async fn logout(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    sessions::revoke(&state.dispatch, caller.session_id).await?;
    state.auth.sessions.forget(caller.session_id);
    crate::realtime::disconnect_session(&state, caller.session_id).await;
    tracing::info!(user.id = %caller.user_id, "logged out");
    Ok(ok(json!({ "message": "Logged out" })))
}
