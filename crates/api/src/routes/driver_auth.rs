//! Driver login: the OTP goes to the driver's transporter, who reads it out.

use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use weelo_dispatch::ErrorCode;

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use serde_json::json;
use weelo_dispatch::accounts::users;

use super::ok;
use crate::auth::login::{self, Device, OtpCall, OtpPurpose};
use crate::auth::{AuthError, Phone};
use crate::client_ip::ClientIp;
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::accounts::dto::DriverDto;

/// Mounts `driver-auth/*`.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("auth")
        .post(
            "/driver-auth/send-otp",
            send_otp,
            Doc::new(
                "Send a driver's login OTP to its transporter",
                super::auth::sent,
            )
            .errors(super::auth::SEND_REFUSALS),
        )
        .post(
            "/driver-auth/verify-otp",
            verify_otp,
            Doc::new("Log a driver in with the OTP", || {
                obj(&[
                    ("accessToken", string()),
                    ("refreshToken", string()),
                    ("expiresIn", int()),
                    ("role", one_of(&["driver"])),
                    ("driver", object()),
                ])
            })
            .errors(super::auth::VERIFY_REFUSALS)
            .errors(&[E::OtpLocked, E::AccountDisabled]),
        );
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SendOtp {
    driver_phone: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct VerifyOtp {
    driver_phone: String,
    otp: String,
    device_id: Option<String>,
}

/// Known and unknown phones get the same status and shape, and the same
/// cooldown and limits: an unknown phone gets a decoy challenge that is
/// stored but never sent, so no answer tells an attacker who drives for
/// whom. Only a real send names the (masked) transporter phone.
async fn send_otp(
    state: web::Data<AppState>,
    client: ClientIp,
    body: ApiJson<SendOtp>,
) -> Result<HttpResponse, ApiError> {
    let driver_phone = validate::phone("driverPhone", &body.driver_phone)?;
    login::limit_client(&state, client.0, OtpCall::Send).await?;
    let transporter_phone = driver_transporter_phone(&state, &driver_phone).await?;
    let settings = &state.auth.settings;
    let mut data = json!({
        "message": "If this number belongs to a driver, the OTP was sent to their transporter",
        "expiresIn": settings.otp_ttl_secs,
        "expiresInMinutes": settings.otp_ttl_secs.div_euclid(60).max(1),
    });
    match transporter_phone {
        Some(transporter_phone) => {
            let sent = login::send_otp(
                &state,
                &driver_phone,
                OtpPurpose::DriverLogin,
                &transporter_phone,
                None,
                None,
            )
            .await?;
            data["transporterPhoneMasked"] = json!(transporter_phone.masked());
            sent.expose_into(&state, &mut data);
        }
        None => login::store_decoy_otp(&state, &driver_phone, OtpPurpose::DriverLogin).await?,
    }
    Ok(ok(data))
}

/// The phone of the transporter a driver's OTP goes to, if `driver_phone`
/// is a driver's with a transporter.
async fn driver_transporter_phone(
    state: &AppState,
    driver_phone: &Phone,
) -> Result<Option<Phone>, ApiError> {
    let found = users::driver_with_transporter(&state.dispatch, driver_phone.digits()).await?;
    Ok(found
        .and_then(|(_, transporter)| transporter)
        .and_then(|transporter| Phone::parse(&transporter.phone)))
}

async fn verify_otp(
    state: web::Data<AppState>,
    client: ClientIp,
    body: ApiJson<VerifyOtp>,
) -> Result<HttpResponse, ApiError> {
    let driver_phone = validate::phone("driverPhone", &body.driver_phone)?;
    let otp = validate::otp("otp", &body.otp)?;
    let device_id = validate::text("deviceId", body.device_id.as_deref(), 128)?;
    login::limit_client(&state, client.0, OtpCall::Verify).await?;
    // The guess first: an unknown phone answers like a wrong OTP (its decoy
    // challenge never matches), never "no such driver".
    login::consume_otp(&state, &driver_phone, OtpPurpose::DriverLogin, &otp).await?;
    let (driver, transporter) =
        users::driver_with_transporter(&state.dispatch, driver_phone.digits())
            .await?
            .ok_or(AuthError::OtpNotRequested)?;
    let device = Device {
        id: device_id.as_deref(),
        name: None,
    };
    let tokens = login::open_session(&state, &driver, device).await?;
    tracing::info!(user.id = %driver.id, user.role = "driver", "driver logged in");
    Ok(ok(json!({
        "accessToken": tokens.access_token,
        "refreshToken": tokens.refresh_token,
        "expiresIn": tokens.expires_in,
        "role": "driver",
        "driver": DriverDto::new(&driver, transporter.as_ref()),
    })))
}
