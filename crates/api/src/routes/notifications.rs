//! Push tokens of devices, kept for a push sender behind a trait.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::accounts::devices;

use super::ok;
use crate::auth::Caller;
use crate::{ApiError, ApiJson, AppState, validate};

/// Mounts `notifications/*`.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("notifications")
        .post(
            "/notifications/register-token",
            register,
            Doc::new("Register this device's push token", object).errors(&[E::DeviceTokenInUse]),
        )
        .delete(
            "/notifications/unregister-token",
            unregister,
            Doc::new("Forget a push token", object),
        );
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Register {
    token: String,
    device_type: Option<String>,
    device_id: Option<String>,
}

async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<Register>,
) -> Result<HttpResponse, ApiError> {
    let token = validate::required_text("token", Some(&body.token), 4096)?;
    let device_type = validate::text("deviceType", body.device_type.as_deref(), 20)?;
    let device_id = validate::text("deviceId", body.device_id.as_deref(), 128)?;
    devices::register(
        &state.dispatch,
        caller.user_id,
        &token,
        device_type.as_deref(),
        device_id.as_deref(),
    )
    .await?;
    Ok(ok(json!({
        "message": "Token registered",
        "userId": caller.user_id,
        "role": caller.role,
    })))
}

#[derive(Deserialize, JsonSchema)]
struct Unregister {
    token: String,
}

async fn unregister(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<Unregister>,
) -> Result<HttpResponse, ApiError> {
    let token = validate::required_text("token", Some(&body.token), 4096)?;
    let removed = devices::unregister(&state.dispatch, caller.user_id, &token).await?;
    Ok(ok(
        json!({ "message": "Token unregistered", "removed": removed }),
    ))
}
