//! Vehicles' documents: the registration certificate and the insurance,
//! each with the date it expires (`PUT vehicles/{id}/documents`), and the
//! warning to the transporter (`vehicle_document_expiring`, pushed) once,
//! 15 days before, by the documents sweep: a compare-and-set per document,
//! so a day's many sweeps and instances warn once.

use chrono::{Duration, NaiveDate};
use diesel_async::AsyncConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::documents;

use super::{Kind, Upload, check_all, commit_rows, put_objects};
use crate::events::{Event, Room, VehicleDocumentExpiring};
use crate::wire::INDIA;
use crate::{Dispatch, DispatchError};

/// Days before expiry the transporter is warned.
pub const WARN_DAYS: i64 = 15;

/// One document of a vehicle, as sent: the file and its expiry.
#[derive(Debug, Clone)]
pub struct VehicleUpload {
    /// The file.
    pub upload: Upload,
    /// `YYYY-MM-DD`, as sent.
    pub expires_on: Option<String>,
}

/// `PUT vehicles/{id}/documents`: stores the documents sent for the
/// transporter's vehicle, each replacing the one of its kind.
pub async fn put(
    state: &Dispatch,
    transporter: Uuid,
    vehicle_id: Uuid,
    sent: Vec<VehicleUpload>,
) -> Result<Value, DispatchError> {
    let vehicle = crate::fleet::vehicle(state, transporter, vehicle_id).await?;
    if sent.is_empty() {
        return Err(DispatchError::invalid(
            "send registrationCertificate or insurance, each with its expiry date",
        ));
    }
    let today = state.clock.now().with_timezone(&INDIA).date_naive();
    let mut expiries = Vec::with_capacity(sent.len());
    for one in &sent {
        let field = match one.upload.kind {
            Kind::VehicleRc => "rcExpiresOn",
            _ => "insuranceExpiresOn",
        };
        let date = one
            .expires_on
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
            .filter(|d| *d <= today + Duration::days(365 * 30))
            .ok_or_else(|| {
                DispatchError::invalid_field(field, format!("{field} is required: YYYY-MM-DD"))
            })?;
        expiries.push((one.upload.kind, date));
    }
    let ready = check_all(state, sent.into_iter().map(|s| s.upload).collect()).await?;
    let now = state.clock.now();
    let mut rows = put_objects(state, transporter, ready, now).await?;
    for row in &mut rows {
        row.vehicle_id = Some(vehicle.id);
        row.expires_on = expiries
            .iter()
            .find(|(kind, _)| kind.as_str() == row.kind)
            .map(|(_, date)| *date);
    }
    commit_rows(state, &rows, now).await?;
    listed(state, vehicle.id).await
}

/// `GET vehicles/{id}/documents` (after the owner check).
pub async fn listed(state: &Dispatch, vehicle: Uuid) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let now = state.clock.now();
    let active = documents::of_vehicle(&mut conn, vehicle).await?;
    let mut listed = Vec::with_capacity(active.len());
    for d in &active {
        listed.push(json!({
            "kind": d.kind,
            "expiresOn": d.expires_on.map(|date| date.to_string()),
            "contentType": d.content_type,
            "url": state.storage.signed_url(&d.object_key, now).await?,
            "uploadedAt": crate::wire::iso(d.created_at),
        }));
    }
    Ok(json!({ "vehicleId": vehicle, "documents": listed }))
}

/// Warns each transporter of its vehicle documents expiring within
/// [`WARN_DAYS`] (India's date); returns how many were warned.
pub async fn warn_expiring(state: &Dispatch) -> Result<usize, DispatchError> {
    let now = state.clock.now();
    let today = now.with_timezone(&INDIA).date_naive();
    let mut conn = state.conn().await?;
    let due = documents::expiring(&mut conn, today + Duration::days(WARN_DAYS), 500).await?;
    let mut warned = 0;
    for document in due {
        let (Some(vehicle_id), Some(expires_on)) = (document.vehicle_id, document.expires_on)
        else {
            continue;
        };
        let sent = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                if !documents::mark_warned(conn, document.id, now).await? {
                    return Ok(false);
                }
                let number = weelo_persistence::vehicles::find(conn, document.owner_id, vehicle_id)
                    .await?
                    .map(|v| v.vehicle_number)
                    .unwrap_or_default();
                let event = Event::VehicleDocumentExpiring(VehicleDocumentExpiring {
                    vehicle_id,
                    vehicle_number: number,
                    document: document.kind.clone(),
                    expires_on: expires_on.to_string(),
                    days_left: (expires_on - today).num_days(),
                    message: "Renew it before it runs out",
                })
                .to([Room::Transporter(document.owner_id)], vehicle_id);
                crate::events::append(conn, &[event], now).await?;
                Ok(true)
            })
            .await
            .map_err(weelo_persistence::PersistenceError::from)?;
        if sent {
            warned += 1;
        }
    }
    Ok(warned)
}
