//! A transporter's drivers: the list, onboarding a driver by an OTP sent
//! to the driver's own phone, and removing one (its details and documents
//! go with it).

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::accounts::{otp, users};
use weelo_orders::Role;
use weelo_persistence::otp::OtpChallenge;
use weelo_persistence::users::NewDriver;

use super::ok;
use crate::auth::login::{self, OtpPurpose, SentOtp};
use crate::auth::{Authed, TransporterRole};
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::accounts::dto::FleetDriverDto;
use weelo_dispatch::fleet::FleetError;

/// Mounts `driver/list`, `driver/onboard/*` and `profile/drivers/{id}`.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("drivers")
        .get(
            "/driver/list",
            list,
            Doc::new("The transporter's drivers with counts", || {
                obj(&[
                    ("drivers", array(object())),
                    ("total", int()),
                    ("online", int()),
                    ("offline", int()),
                    ("active", int()),
                    ("available", int()),
                ])
            }),
        )
        .delete(
            "/profile/drivers/{id}",
            remove,
            Doc::new(
                "Remove a driver: sessions end, details and documents are erased",
                || {
                    obj(&[
                        ("driverId", uuid()),
                        ("removed", boolean()),
                        ("documentsDeleted", int()),
                        ("driverStats", object()),
                    ])
                },
            )
            .errors(&[E::DriverNotFound, E::DriverOnTrip]),
        )
        .post(
            "/driver/onboard/initiate",
            initiate,
            Doc::new(
                "Start onboarding a driver: an OTP to the driver's phone",
                object,
            )
            .errors(&[E::DriverExists])
            .errors(super::auth::SEND_REFUSALS),
        )
        .post(
            "/driver/onboard/resend",
            resend,
            Doc::new("Send the onboarding OTP again", object)
                .errors(&[E::OnboardingNotFound])
                .errors(super::auth::SEND_REFUSALS),
        )
        .post(
            "/driver/onboard/verify",
            verify,
            Doc::new("Finish onboarding with the driver's OTP", || {
                obj(&[("driver", object())])
            })
            .errors(&[E::OnboardingNotFound, E::DriverExists])
            .errors(super::auth::VERIFY_REFUSALS),
        );
}

async fn list(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<FleetDriverDto> = users::fleet_drivers(&state.dispatch, caller.user_id()).await?;
    let online = rows.iter().filter(|d| d.is_online).count();
    let on_trip = rows.iter().filter(|d| d.is_on_trip).count();
    let available = rows.iter().filter(|d| d.is_available).count();
    Ok(ok(json!({
        "drivers": rows,
        "total": rows.len(),
        "online": online,
        "offline": rows.len() - online,
        "active": on_trip,
        "available": available,
    })))
}

async fn remove(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let removed =
        weelo_dispatch::driver_removal::remove_driver(&state.dispatch, caller.user_id(), *id)
            .await?;
    // Its sessions are revoked; this instance stops trusting them at once,
    // the others within `auth.session_cache_secs`.
    state.auth.sessions.forget_user(*id);
    Ok(ok(removed))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Initiate {
    phone: String,
    name: Option<String>,
    license_number: Option<String>,
    email: Option<String>,
}

fn otp_answer(state: &AppState, phone: &crate::auth::Phone, sent: &SentOtp) -> HttpResponse {
    let settings = &state.auth.settings;
    let mut data = json!({
        "message": format!("OTP sent to the driver at {}", phone.masked()),
        "driverPhoneMasked": phone.masked(),
        "expiresIn": settings.otp_ttl_secs,
        "expiresInMinutes": settings.otp_ttl_secs.div_euclid(60).max(1),
    });
    sent.expose_into(state, &mut data);
    ok(data)
}

async fn initiate(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<Initiate>,
) -> Result<HttpResponse, ApiError> {
    let phone = validate::phone("phone", &body.phone)?;
    let name = validate::required_text("name", body.name.as_deref(), 100)?;
    let license = validate::text("licenseNumber", body.license_number.as_deref(), 30)?
        .map(|license| license.to_ascii_uppercase());
    let email = validate::email("email", body.email.as_deref())?;
    if users::find_by_phone(&state.dispatch, phone.digits(), Role::Driver)
        .await?
        .is_some()
    {
        return Err(FleetError::DriverExists.into());
    }
    let pending = json!({ "name": name, "licenseNumber": license, "email": email });
    let sent = login::send_otp(
        &state,
        &phone,
        OtpPurpose::DriverOnboard,
        &phone,
        Some(caller.user_id()),
        Some(pending),
    )
    .await?;
    Ok(otp_answer(&state, &phone, &sent))
}

#[derive(Deserialize, JsonSchema)]
struct Resend {
    phone: String,
}

/// The onboarding this transporter started for `phone`, if any.
async fn pending_onboarding(
    state: &AppState,
    caller: &Authed<TransporterRole>,
    phone: &crate::auth::Phone,
) -> Result<OtpChallenge, ApiError> {
    let challenge = otp::challenge(
        &state.dispatch,
        phone.digits(),
        OtpPurpose::DriverOnboard.as_str(),
    )
    .await?;
    challenge
        .filter(|c| c.requested_by == Some(caller.user_id()))
        .ok_or_else(|| FleetError::OnboardingNotFound.into())
}

async fn resend(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<Resend>,
) -> Result<HttpResponse, ApiError> {
    let phone = validate::phone("phone", &body.phone)?;
    let challenge = pending_onboarding(&state, &caller, &phone).await?;
    let sent = login::send_otp(
        &state,
        &phone,
        OtpPurpose::DriverOnboard,
        &phone,
        Some(caller.user_id()),
        challenge.pending_profile,
    )
    .await?;
    Ok(otp_answer(&state, &phone, &sent))
}

#[derive(Deserialize, JsonSchema)]
struct Verify {
    phone: String,
    otp: String,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct PendingDriver {
    name: Option<String>,
    license_number: Option<String>,
    email: Option<String>,
}

async fn verify(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<Verify>,
) -> Result<HttpResponse, ApiError> {
    let phone = validate::phone("phone", &body.phone)?;
    let otp = validate::otp("otp", &body.otp)?;
    // Only the transporter who started it may spend its attempts.
    pending_onboarding(&state, &caller, &phone).await?;
    let accepted = login::consume_otp(&state, &phone, OtpPurpose::DriverOnboard, &otp).await?;
    let pending: PendingDriver = accepted
        .pending_profile
        .and_then(|value| serde_json::from_value(value).ok())
        .unwrap_or_default();
    let driver = weelo_dispatch::fleet::create_driver(
        &state.dispatch,
        &NewDriver {
            phone: phone.digits(),
            role: "driver",
            name: pending.name.as_deref(),
            email: pending.email.as_deref(),
            license_number: pending.license_number.as_deref(),
            transporter_id: caller.user_id(),
            is_verified: true,
        },
    )
    .await?;
    tracing::info!(driver.id = %driver.id, transporter.id = %caller.user_id(), "driver onboarded");
    Ok(ok(json!({
        "message": "Driver added",
        "driver": {
            "id": driver.id,
            "name": driver.name,
            "phone": driver.phone,
            "licenseNumber": driver.license_number,
            "transporterId": driver.transporter_id,
            "isVerified": driver.is_verified,
        }
    })))
}
