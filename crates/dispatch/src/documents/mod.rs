//! Documents and KYC: a driver's photo and licence, uploaded by the captain
//! app, checked from their bytes and re-encoded ([`inspect`]), kept in
//! object storage under random keys ([`store`]) and recorded in
//! `documents`; the profile form that moves a driver's KYC to `pending`;
//! signed download links; and the sweep that deletes objects no row names
//! (a crash between storing and committing) and replaced ones past their
//! retention.

pub mod inspect;
pub mod kyc;
pub mod settings;
pub mod store;
pub mod vehicles;

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::documents::{self, Document};

pub use inspect::UploadError;
pub use settings::StorageSettings;
pub use store::{Storage, StorageError};

use crate::{Dispatch, DispatchError, ErrorCode};

/// Where every document object lives.
pub const PREFIX: &str = "documents";

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The driver's face.
    DriverPhoto,
    /// The licence's front.
    LicenseFront,
    /// The licence's back.
    LicenseBack,
    /// A vehicle's registration certificate.
    VehicleRc,
    /// A vehicle's insurance.
    VehicleInsurance,
}

impl Kind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DriverPhoto => "driver_photo",
            Kind::LicenseFront => "license_front",
            Kind::LicenseBack => "license_back",
            Kind::VehicleRc => "vehicle_rc",
            Kind::VehicleInsurance => "vehicle_insurance",
        }
    }

    /// A scan of a licence may be a PDF; a face may not.
    fn pdf_allowed(self) -> bool {
        self != Kind::DriverPhoto
    }
}

/// One file of a form, as received.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Which document.
    pub kind: Kind,
    /// Its bytes (at most `storage.max_file_bytes`).
    pub bytes: Vec<u8>,
    /// The part's `Content-Type`, as sent.
    pub content_type: Option<String>,
    /// The part's file name, as sent.
    pub file_name: Option<String>,
}

/// The text fields of `driver/complete-profile`.
#[derive(Debug, Clone, Default)]
pub struct ProfileForm {
    /// Driving licence number.
    pub license_number: Option<String>,
    /// The truck type the driver drives.
    pub vehicle_type: Option<String>,
    /// Where the driver lives.
    pub address: Option<String>,
    /// App language.
    pub language: Option<String>,
}

impl From<UploadError> for DispatchError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::TooLarge(_) => {
                DispatchError::refused(ErrorCode::PayloadTooLarge, error.to_string())
            }
            _ => DispatchError::invalid(error.to_string()),
        }
    }
}

impl From<StorageError> for DispatchError {
    fn from(error: StorageError) -> Self {
        DispatchError::Unavailable {
            cause: error.to_string(),
        }
    }
}

/// A checked file, ready to store.
struct Ready {
    kind: Kind,
    prepared: inspect::Prepared,
}

/// Checks every upload (all or nothing: one bad file refuses the form).
async fn check_all(state: &Dispatch, uploads: Vec<Upload>) -> Result<Vec<Ready>, DispatchError> {
    let max_side = state.storage.settings().max_image_side;
    let max_file = state.storage.settings().max_file_bytes;
    tokio::task::spawn_blocking(move || {
        uploads
            .into_iter()
            .map(|upload| {
                if upload.bytes.len() > max_file {
                    return Err(UploadError::TooLarge(max_file));
                }
                if !inspect::declared_matches(
                    upload.content_type.as_deref(),
                    upload.file_name.as_deref(),
                    &upload.bytes,
                ) {
                    return Err(UploadError::Mismatch);
                }
                inspect::prepare(&upload.bytes, upload.kind.pdf_allowed(), max_side).map(
                    |prepared| Ready {
                        kind: upload.kind,
                        prepared,
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| DispatchError::Internal {
        cause: format!("checking uploads: {e}"),
    })?
    .map_err(DispatchError::from)
}

/// Stores `ready`'s objects; the rows to record them.
async fn put_objects(
    state: &Dispatch,
    owner: Uuid,
    ready: Vec<Ready>,
    now: DateTime<Utc>,
) -> Result<Vec<Document>, DispatchError> {
    let mut rows = Vec::with_capacity(ready.len());
    for Ready { kind, prepared } in ready {
        let id = Uuid::new_v4();
        let key = format!("{PREFIX}/{owner}/{id}.{}", prepared.extension);
        let thumbnail_key = prepared
            .thumbnail
            .as_ref()
            .map(|_| format!("{PREFIX}/{owner}/{id}-thumb.jpg"));
        let digest = {
            use sha2::Digest;
            hex(&sha2::Sha256::digest(&prepared.bytes))
        };
        let size = i64::try_from(prepared.bytes.len()).unwrap_or(i64::MAX);
        let stored = async {
            state.storage.put(&key, prepared.bytes).await?;
            if let (Some(thumb_key), Some(thumb)) = (&thumbnail_key, prepared.thumbnail) {
                state.storage.put(thumb_key, thumb).await?;
            }
            Ok::<_, StorageError>(())
        }
        .await;
        if let Err(error) = stored {
            forget_objects(state, &rows).await;
            return Err(error.into());
        }
        rows.push(Document {
            id,
            owner_id: owner,
            kind: kind.as_str().to_owned(),
            status: "active".to_owned(),
            object_key: key,
            thumbnail_key,
            content_type: prepared.content_type.to_owned(),
            size_bytes: size,
            sha256: digest,
            created_at: now,
            replaced_at: None,
            vehicle_id: None,
            expires_on: None,
            expiry_warned_at: None,
        });
    }
    Ok(rows)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deletes the objects of rows that were never committed (best effort:
/// what stays is an orphan the sweep removes).
pub(crate) async fn forget_objects(state: &Dispatch, rows: &[Document]) {
    for row in rows {
        for key in std::iter::once(&row.object_key).chain(&row.thumbnail_key) {
            if let Err(error) = state.storage.delete(key).await {
                tracing::warn!(%error, "an uncommitted upload was left for the orphan sweep");
            }
        }
    }
}

fn text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, DispatchError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(DispatchError::invalid_field(
            field,
            format!("{field} must be at most {max} printable characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// `POST driver/complete-profile`: the licence number, the three photos
/// and the optional fields; the driver's KYC becomes `pending`.
pub async fn complete_profile(
    state: &Dispatch,
    driver: Uuid,
    form: &ProfileForm,
    uploads: Vec<Upload>,
) -> Result<Value, DispatchError> {
    let license = text("licenseNumber", form.license_number.as_deref(), 20)?
        .filter(|l| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
        })
        .filter(|l| l.len() >= 5)
        .ok_or_else(|| {
            DispatchError::invalid_field(
                "licenseNumber",
                "licenseNumber is required: 5 to 20 letters, digits, spaces or dashes",
            )
        })?;
    let address = text("address", form.address.as_deref(), 300)?;
    let language = text("language", form.language.as_deref(), 10)?;
    let vehicle_type = text("vehicleType", form.vehicle_type.as_deref(), 40)?;
    for (kind, field) in [
        (Kind::DriverPhoto, "driverPhoto"),
        (Kind::LicenseFront, "licenseFront"),
        (Kind::LicenseBack, "licenseBack"),
    ] {
        if !uploads.iter().any(|u| u.kind == kind) {
            return Err(DispatchError::invalid_field(
                field,
                format!("{field} is required"),
            ));
        }
    }
    let ready = check_all(state, uploads).await?;
    let now = state.clock.now();
    let rows = put_objects(state, driver, ready, now).await?;
    let mut conn = state.conn().await?;
    let committed = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let mut replaced = Vec::new();
            for row in &rows {
                replaced.extend(documents::put_active(conn, row, now).await?);
            }
            weelo_persistence::users::set_driver_profile(
                conn,
                driver,
                &license,
                address.as_deref(),
                language.as_deref(),
                now,
            )
            .await?;
            documents::set_verification(conn, driver, "pending", now).await?;
            Ok(replaced)
        })
        .await;
    if let Err(error) = committed {
        forget_objects(state, &rows).await;
        return Err(weelo_persistence::PersistenceError::from(error).into());
    }
    tracing::info!(driver.id = %driver, documents = rows.len(), "driver profile completed; KYC pending");
    let photos = photos(state, driver).await?;
    Ok(json!({
        "driver": {
            "id": driver,
            "licenseNumber": license,
            "vehicleType": vehicle_type,
            "address": address,
            "language": language,
            "photoUrls": photos,
            "photos": photos,
            "verification": "pending",
            "isProfileCompleted": true,
        }
    }))
}

/// `PUT driver/profile/photo` and `PUT driver/profile/license`: replaces
/// the documents sent.
pub async fn replace(
    state: &Dispatch,
    driver: Uuid,
    uploads: Vec<Upload>,
) -> Result<Value, DispatchError> {
    if uploads.is_empty() {
        return Err(DispatchError::invalid("no file was sent"));
    }
    let ready = check_all(state, uploads).await?;
    let now = state.clock.now();
    let rows = put_objects(state, driver, ready, now).await?;
    commit_rows(state, &rows, now).await?;
    Ok(json!({ "photos": photos(state, driver).await? }))
}

/// Records `rows` as their owners' active documents in one transaction;
/// when it fails, the objects just stored are deleted again.
async fn commit_rows(
    state: &Dispatch,
    rows: &[Document],
    now: DateTime<Utc>,
) -> Result<(), DispatchError> {
    let mut conn = state.conn().await?;
    let committed = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            for row in rows {
                documents::put_active(conn, row, now).await?;
            }
            Ok(())
        })
        .await;
    if let Err(error) = committed {
        forget_objects(state, rows).await;
        return Err(weelo_persistence::PersistenceError::from(error).into());
    }
    Ok(())
}

/// A driver's photos as the profile screen reads them: signed links.
pub async fn photos(state: &Dispatch, driver: Uuid) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let active = documents::active_of(&mut conn, driver).await?;
    let now = state.clock.now();
    let link = async |key: Option<&str>| -> Result<Option<String>, StorageError> {
        match key {
            Some(key) => Ok(Some(state.storage.signed_url(key, now).await?)),
            None => Ok(None),
        }
    };
    let of_kind = |kind: Kind| active.iter().find(|d| d.kind == kind.as_str());
    let photo = of_kind(Kind::DriverPhoto);
    let profile_photo = link(photo.map(|d| d.object_key.as_str())).await?;
    let thumbnail = link(photo.and_then(|d| d.thumbnail_key.as_deref())).await?;
    let front = link(of_kind(Kind::LicenseFront).map(|d| d.object_key.as_str())).await?;
    let back = link(of_kind(Kind::LicenseBack).map(|d| d.object_key.as_str())).await?;
    Ok(json!({
        "profilePhoto": profile_photo,
        "profilePhotoThumbnail": thumbnail,
        "licenseFront": front,
        "licenseBack": back,
    }))
}

/// `GET driver/documents[?driverId]`: a driver's KYC state and document
/// links, for the driver or its transporter (another fleet's driver 404).
pub async fn of_driver(
    state: &Dispatch,
    role: weelo_orders::Role,
    caller: Uuid,
    driver_id: Option<Uuid>,
) -> Result<Value, DispatchError> {
    let driver = crate::drivers::subject(state, role, caller, driver_id).await?;
    Ok(json!({
        "driverId": driver.id,
        "verification": driver.verification,
        "isVerified": driver.is_verified,
        "photos": photos(state, driver.id).await?,
    }))
}

/// `GET files/{key}?exp&sig`: the object, when the link is this server's
/// and unexpired; (content type, bytes).
pub async fn download(
    state: &Dispatch,
    key: &str,
    expires: i64,
    sig: &str,
) -> Result<(String, Vec<u8>), DispatchError> {
    let refused =
        || DispatchError::refused(ErrorCode::NotFound, "no such file, or the link has expired");
    if !state.storage.verify(key, expires, sig, state.clock.now()) {
        return Err(refused());
    }
    let bytes = state.storage.get(key).await?.ok_or_else(refused)?;
    let content_type = match key.rsplit('.').next() {
        Some("jpg") => "image/jpeg",
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    };
    Ok((content_type.to_owned(), bytes))
}

/// Deletes replaced and rejected documents older than
/// `storage.retention_days`: their objects, then their rows; returns how
/// many.
pub async fn sweep_retired(state: &Dispatch) -> Result<usize, DispatchError> {
    let cutoff = state.clock.now() - Duration::days(state.storage.settings().retention_days);
    let mut conn = state.conn().await?;
    let ended = documents::ended_before(&mut conn, cutoff, 500).await?;
    for row in &ended {
        for key in std::iter::once(&row.object_key).chain(&row.thumbnail_key) {
            state.storage.delete(key).await?;
        }
    }
    let ids: Vec<Uuid> = ended.iter().map(|d| d.id).collect();
    Ok(documents::delete(&mut conn, &ids).await?)
}

/// Deletes objects no document row names (a crash between storing and
/// committing), once older than `storage.orphan_after_secs`; returns how
/// many.
pub async fn sweep_orphans(state: &Dispatch) -> Result<usize, DispatchError> {
    let now = state.clock.now();
    let cutoff = now - Duration::seconds(state.storage.settings().orphan_after_secs);
    let keys = state.storage.older_than(PREFIX, cutoff).await?;
    let mut removed = 0;
    let mut conn = state.conn().await?;
    for key in keys {
        if !documents::is_referenced(&mut conn, &key).await? {
            state.storage.delete(&key).await?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(objects = removed, "orphaned uploads deleted");
    }
    Ok(removed)
}
