//! Profiles: read and update one's own, the driver's view, the app language.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::accounts::users;
use weelo_persistence::users::{ProfileChanges, User};

use super::ok;
use crate::auth::{Authed, Caller, CustomerRole, DriverRole, TransporterRole};
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::accounts::dto::{DriverDto, ProfileDto};
use weelo_dispatch::fleet::FleetError;

/// Mounts `profile*` and `driver/profile`.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("profile")
        .get(
            "/profile",
            get_profile,
            Doc::new("One's own profile", profile).errors(&[E::UserNotFound]),
        )
        .put(
            "/profile/customer",
            put_customer,
            Doc::new("Update the customer's profile", profile).errors(&[E::UserNotFound]),
        )
        .put(
            "/profile/transporter",
            put_transporter,
            Doc::new("Update the transporter's profile", profile).errors(&[E::UserNotFound]),
        )
        .put(
            "/profile/language",
            put_language,
            Doc::new("The app's language", || {
                obj(&[("message", string()), ("preferredLanguage", string())])
            })
            .errors(&[E::UserNotFound]),
        )
        .get(
            "/driver/profile",
            driver_profile,
            Doc::new("The driver's profile with its photos' links", || {
                obj(&[("driver", object())])
            })
            .errors(&[E::UserNotFound]),
        );
}

fn profile() -> serde_json::Value {
    obj(&[("profile", object()), ("user", object())])
}

/// Both keys: the customer app reads `profile`, the captain app `user`.
fn profile_response(user: &User) -> HttpResponse {
    let profile = ProfileDto::from(user);
    ok(json!({ "profile": profile, "user": profile }))
}

async fn load_user(state: &AppState, id: uuid::Uuid) -> Result<User, ApiError> {
    Ok(users::find(&state.dispatch, id)
        .await?
        .ok_or(FleetError::UserNotFound)?)
}

async fn get_profile(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(profile_response(&load_user(&state, caller.user_id).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CustomerProfile {
    name: Option<String>,
    email: Option<String>,
    company: Option<String>,
    gst_number: Option<String>,
}

async fn put_customer(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    body: ApiJson<CustomerProfile>,
) -> Result<HttpResponse, ApiError> {
    let changes = ProfileChanges {
        name: Some(validate::required_text("name", body.name.as_deref(), 100)?),
        email: validate::email("email", body.email.as_deref())?,
        company: validate::text("company", body.company.as_deref(), 150)?,
        gst_number: validate::gst_number("gstNumber", body.gst_number.as_deref())?,
        ..ProfileChanges::default()
    };
    update(&state, caller.user_id(), &changes).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TransporterProfile {
    name: Option<String>,
    email: Option<String>,
    company: Option<String>,
    business_name: Option<String>,
    gst_number: Option<String>,
    pan_number: Option<String>,
    address: Option<String>,
    business_address: Option<String>,
    city: Option<String>,
    state: Option<String>,
}

async fn put_transporter(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    body: ApiJson<TransporterProfile>,
) -> Result<HttpResponse, ApiError> {
    let company = body.company.as_deref().or(body.business_name.as_deref());
    let address = body.address.as_deref().or(body.business_address.as_deref());
    let changes = ProfileChanges {
        name: Some(validate::required_text("name", body.name.as_deref(), 100)?),
        email: validate::email("email", body.email.as_deref())?,
        company: validate::text("company", company, 150)?,
        gst_number: validate::gst_number("gstNumber", body.gst_number.as_deref())?,
        pan_number: validate::pan_number("panNumber", body.pan_number.as_deref())?,
        address: validate::text("address", address, 300)?,
        city: validate::text("city", body.city.as_deref(), 100)?,
        state: validate::text("state", body.state.as_deref(), 100)?,
        preferred_language: None,
    };
    update(&state, caller.user_id(), &changes).await
}

async fn update(
    state: &AppState,
    id: uuid::Uuid,
    changes: &ProfileChanges,
) -> Result<HttpResponse, ApiError> {
    let user = users::update_profile(&state.dispatch, id, changes).await?;
    Ok(profile_response(&user))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Language {
    preferred_language: String,
}

async fn put_language(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<Language>,
) -> Result<HttpResponse, ApiError> {
    let language = validate::language("preferredLanguage", &body.preferred_language)?;
    let changes = ProfileChanges {
        preferred_language: Some(language.clone()),
        ..ProfileChanges::default()
    };
    users::update_profile(&state.dispatch, caller.user_id, &changes).await?;
    Ok(ok(
        json!({ "message": "Language updated", "preferredLanguage": language }),
    ))
}

async fn driver_profile(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    let driver = load_user(&state, caller.user_id()).await?;
    let transporter = match driver.transporter_id {
        Some(id) => users::find(&state.dispatch, id).await?,
        None => None,
    };
    let mut shown = json!(DriverDto::new(&driver, transporter.as_ref()));
    let photos = weelo_dispatch::documents::photos(&state, driver.id).await?;
    if !photos["profilePhoto"].is_null() {
        shown["profilePhoto"] = photos["profilePhoto"].clone();
    }
    shown["photos"] = photos;
    Ok(ok(json!({ "driver": shown })))
}
