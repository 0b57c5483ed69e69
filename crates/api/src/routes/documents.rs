//! Drivers' documents (docs/app-contract.md §3.3): the KYC form
//! `POST driver/complete-profile` and the photo and licence edits, as the
//! captain app sends them (multipart/form-data), and the signed download
//! links' `GET files/{key}`. Parts are read as they stream in, each file
//! capped at `storage.max_file_bytes` and the form at
//! `storage.max_request_bytes` (413 past either), at most
//! `storage.max_fields` parts.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_multipart::Multipart;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use futures_util::TryStreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::documents::vehicles::{self, VehicleUpload};
use weelo_dispatch::documents::{self, Kind, ProfileForm, Upload};

use super::ok;
use crate::auth::{Authed, Caller, DriverRole, TransporterRole};
use crate::{ApiError, AppState};

/// Mounts the routes.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("documents")
        .post(
            "/driver/complete-profile",
            complete_profile,
            Doc::new(
                "The driver's KYC form: licence, photos, address; KYC becomes pending",
                || obj(&[("driver", object())]),
            )
            .form(&[
                ("licenseNumber", false),
                ("vehicleType", false),
                ("address", false),
                ("language", false),
                ("driverPhoto", true),
                ("licenseFront", true),
                ("licenseBack", true),
            ]),
        )
        .put(
            "/driver/profile/photo",
            photo,
            Doc::new("Replace the driver's photo", || {
                obj(&[("photos", object())])
            })
            .form(&[("photo", true)]),
        )
        .put(
            "/driver/profile/license",
            license,
            Doc::new("Replace the licence's photos", || {
                obj(&[("photos", object())])
            })
            .form(&[("licenseFront", true), ("licenseBack", true)]),
        )
        .get(
            "/driver/documents",
            of_driver,
            Doc::new("A driver's KYC state and document links", || {
                obj(&[
                    ("driverId", uuid()),
                    (
                        "verification",
                        one_of(&["unverified", "pending", "approved", "rejected"]),
                    ),
                    ("isVerified", boolean()),
                    ("photos", object()),
                ])
            })
            .errors(&[E::DriverNotFound]),
        )
        .put(
            "/vehicles/{id}/documents",
            put_vehicle,
            Doc::new(
                "A vehicle's registration certificate and insurance, with expiry dates",
                || obj(&[("vehicleId", uuid()), ("documents", array(object()))]),
            )
            .form(&[
                ("registrationCertificate", true),
                ("rcExpiresOn", false),
                ("insurance", true),
                ("insuranceExpiresOn", false),
            ])
            .errors(&[E::VehicleNotFound]),
        )
        .get(
            "/vehicles/{id}/documents",
            get_vehicle,
            Doc::new("A vehicle's documents", || {
                obj(&[("vehicleId", uuid()), ("documents", array(object()))])
            })
            .errors(&[E::VehicleNotFound]),
        )
        .get(
            "/files/{key:.*}",
            file,
            Doc::new("A document, by the signed link the profile gave", object)
                .raw()
                .errors(&[E::NotFound]),
        );
}

/// A form as received: its text fields and files.
#[derive(Default)]
struct Form {
    text: Vec<(String, String)>,
    files: Vec<Upload>,
}

impl Form {
    fn text(&self, name: &str) -> Option<String> {
        self.text
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

/// Longest text part, bytes.
const MAX_TEXT_BYTES: usize = 2_048;

/// Reads `multipart`, keeping the files `kind_of` names.
async fn read(
    state: &AppState,
    mut multipart: Multipart,
    kind_of: impl Fn(&str) -> Option<Kind>,
) -> Result<Form, ApiError> {
    let limits = state.storage.settings();
    let too_large = |limit: usize| ApiError::PayloadTooLarge { limit_bytes: limit };
    let bad = |e: actix_multipart::MultipartError| {
        ApiError::invalid(format!("the form could not be read: {e}"))
    };
    let mut form = Form::default();
    let (mut parts, mut total) = (0_usize, 0_usize);
    // A refusal found mid-form is answered once the form has been read to
    // its end (up to the request limit, keeping nothing): a client still
    // sending would otherwise see its connection cut instead of the answer.
    let mut refused: Option<ApiError> = None;
    while let Some(mut field) = multipart.try_next().await.map_err(bad)? {
        parts += 1;
        if parts > limits.max_fields && refused.is_none() {
            refused = Some(ApiError::invalid(format!(
                "at most {} parts in a form",
                limits.max_fields
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(|m| m.essence_str().to_owned());
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let kind = kind_of(&name);
        let cap = if kind.is_some() {
            limits.max_file_bytes
        } else {
            MAX_TEXT_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(bad)? {
            total += chunk.len();
            if total > limits.max_request_bytes {
                return Err(too_large(limits.max_request_bytes));
            }
            if refused.is_some() {
                continue;
            }
            if bytes.len() + chunk.len() > cap {
                refused = Some(if kind.is_some() {
                    too_large(cap)
                } else {
                    ApiError::invalid_field(name.clone(), "this field is too long")
                });
                bytes = Vec::new();
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        if refused.is_some() {
            continue;
        }
        match kind {
            Some(kind) if !bytes.is_empty() => form.files.push(Upload {
                kind,
                bytes,
                content_type,
                file_name,
            }),
            Some(_) => {}
            None => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| ApiError::invalid_field(name.clone(), "not UTF-8 text"))?;
                form.text.push((name, text));
            }
        }
    }
    if let Some(refused) = refused {
        return Err(refused);
    }
    Ok(form)
}

async fn complete_profile(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form = read(&state, multipart, |name| match name {
        "driverPhoto" | "photo" => Some(Kind::DriverPhoto),
        "licenseFront" => Some(Kind::LicenseFront),
        "licenseBack" => Some(Kind::LicenseBack),
        _ => None,
    })
    .await?;
    let profile = ProfileForm {
        license_number: form.text("licenseNumber"),
        vehicle_type: form.text("vehicleType"),
        address: form.text("address"),
        language: form.text("language"),
    };
    Ok(ok(documents::complete_profile(
        &state,
        caller.user_id(),
        &profile,
        form.files,
    )
    .await?))
}

async fn photo(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form = read(&state, multipart, |name| {
        matches!(name, "photo" | "driverPhoto").then_some(Kind::DriverPhoto)
    })
    .await?;
    Ok(ok(
        documents::replace(&state, caller.user_id(), form.files).await?
    ))
}

async fn license(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form = read(&state, multipart, |name| match name {
        "licenseFront" => Some(Kind::LicenseFront),
        "licenseBack" => Some(Kind::LicenseBack),
        _ => None,
    })
    .await?;
    Ok(ok(
        documents::replace(&state, caller.user_id(), form.files).await?
    ))
}

async fn put_vehicle(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<uuid::Uuid>,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form = read(&state, multipart, |name| match name {
        "registrationCertificate" | "rc" => Some(Kind::VehicleRc),
        "insurance" => Some(Kind::VehicleInsurance),
        _ => None,
    })
    .await?;
    let expiry = |kind: Kind| match kind {
        Kind::VehicleRc => form.text("rcExpiresOn"),
        _ => form.text("insuranceExpiresOn"),
    };
    let sent = form
        .files
        .iter()
        .map(|upload| VehicleUpload {
            expires_on: expiry(upload.kind),
            upload: upload.clone(),
        })
        .collect();
    Ok(ok(vehicles::put(&state, caller.user_id(), *id, sent).await?))
}

async fn get_vehicle(
    state: web::Data<AppState>,
    caller: Authed<TransporterRole>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = weelo_dispatch::fleet::vehicle(&state, caller.user_id(), *id).await?;
    Ok(ok(vehicles::listed(&state, vehicle.id).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct WhichDriver {
    driver_id: Option<uuid::Uuid>,
}

async fn of_driver(
    state: web::Data<AppState>,
    caller: Caller,
    which: web::Query<WhichDriver>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(documents::of_driver(
        &state,
        caller.role,
        caller.user_id,
        which.driver_id,
    )
    .await?))
}

#[derive(Deserialize, JsonSchema)]
struct Signed {
    exp: Option<i64>,
    sig: Option<String>,
}

async fn file(
    state: web::Data<AppState>,
    key: web::Path<String>,
    signed: web::Query<Signed>,
) -> Result<HttpResponse, ApiError> {
    let (content_type, bytes) = documents::download(
        &state,
        &key,
        signed.exp.unwrap_or(0),
        signed.sig.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::NoStore,
        ]))
        .body(bytes))
}
