//! Profiles: read and update one's own, the driver's view, the app language.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use weelo_dispatch::accounts::users;
use weelo_persistence::users::{ProfileChanges, User};

use super::ok;
use crate::auth::{Authed, Caller, CustomerRole, DriverRole, TransporterRole};
use crate::{ApiError, ApiJson, AppState, validate};
use weelo_dispatch::accounts::dto::{DriverDto, ProfileDto};
use weelo_dispatch::fleet::FleetError;

/// Mounts `profile*` and `driver/profile`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/profile", web::get().to(get_profile))
        .route("/profile/customer", web::put().to(put_customer))
        .route("/profile/transporter", web::put().to(put_transporter))
        .route("/profile/language", web::put().to(put_language))
        .route("/driver/profile", web::get().to(driver_profile));
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

#[derive(Deserialize)]
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

#[derive(Deserialize)]
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

#[derive(Deserialize)]
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
