//! Driver login: the OTP goes to the driver's transporter, who reads it out.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use weelo_persistence::users;

use super::ok;
use crate::auth::login::{self, Device, OtpPurpose};
use crate::auth::{AuthError, Phone};
use crate::dto::DriverDto;
use crate::{ApiError, ApiJson, AppState, validate};

/// Mounts `driver-auth/*`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/driver-auth/send-otp", web::post().to(send_otp))
        .route("/driver-auth/verify-otp", web::post().to(verify_otp));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendOtp {
    driver_phone: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyOtp {
    driver_phone: String,
    otp: String,
    device_id: Option<String>,
}

async fn send_otp(
    state: web::Data<AppState>,
    body: ApiJson<SendOtp>,
) -> Result<HttpResponse, ApiError> {
    let driver_phone = validate::phone("driverPhone", &body.driver_phone)?;
    let mut conn = state.conn().await?;
    let driver = users::find_by_phone(&mut conn, driver_phone.digits(), "driver")
        .await?
        .ok_or(AuthError::DriverNotFound)?;
    let transporter_id = driver
        .transporter_id
        .ok_or(AuthError::TransporterNotFound)?;
    let transporter = users::find(&mut conn, transporter_id)
        .await?
        .ok_or(AuthError::TransporterNotFound)?;
    drop(conn);
    let transporter_phone =
        Phone::parse(&transporter.phone).ok_or(AuthError::TransporterNotFound)?;
    let sent = login::send_otp(
        &state,
        &driver_phone,
        OtpPurpose::DriverLogin,
        &transporter_phone,
        None,
        None,
    )
    .await?;
    let settings = &state.auth.settings;
    let mut data = json!({
        "message": format!("OTP sent to your transporter at {}", transporter_phone.masked()),
        "transporterPhoneMasked": transporter_phone.masked(),
        "driverId": driver.id,
        "driverName": driver.name,
        "expiresIn": settings.otp_ttl_secs,
        "expiresInMinutes": settings.otp_ttl_secs.div_euclid(60).max(1),
    });
    sent.expose_into(&state, &mut data);
    Ok(ok(data))
}

async fn verify_otp(
    state: web::Data<AppState>,
    body: ApiJson<VerifyOtp>,
) -> Result<HttpResponse, ApiError> {
    let driver_phone = validate::phone("driverPhone", &body.driver_phone)?;
    let otp = validate::otp("otp", &body.otp)?;
    let device_id = validate::text("deviceId", body.device_id.as_deref(), 128)?;
    let mut conn = state.conn().await?;
    let driver = users::find_by_phone(&mut conn, driver_phone.digits(), "driver")
        .await?
        .ok_or(AuthError::DriverNotFound)?;
    drop(conn);
    login::consume_otp(&state, &driver_phone, OtpPurpose::DriverLogin, &otp).await?;
    let mut conn = state.conn().await?;
    let transporter = match driver.transporter_id {
        Some(id) => users::find(&mut conn, id).await?,
        None => None,
    };
    let device = Device {
        id: device_id.as_deref(),
        name: None,
    };
    let tokens = login::open_session(&state, &mut conn, &driver, device).await?;
    tracing::info!(user.id = %driver.id, user.role = "driver", "driver logged in");
    Ok(ok(json!({
        "accessToken": tokens.access_token,
        "refreshToken": tokens.refresh_token,
        "expiresIn": tokens.expires_in,
        "role": "driver",
        "driver": DriverDto::new(&driver, transporter.as_ref()),
    })))
}
