//! Documents: the rows that say which stored object is whose, of what kind,
//! and whether it is the one in force. Storing a new one of a kind replaces
//! the active one in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{documents, kyc_decisions, users};

/// A row of `documents`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct Document {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub kind: String,
    pub status: String,
    pub object_key: String,
    pub thumbnail_key: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub replaced_at: Option<DateTime<Utc>>,
    pub vehicle_id: Option<Uuid>,
    pub expires_on: Option<NaiveDate>,
    pub expiry_warned_at: Option<DateTime<Utc>>,
}

/// Records `document` as its owner's active one of its kind, marking the
/// one it replaces; returns the replaced row's keys.
pub async fn put_active(
    conn: &mut AsyncPgConnection,
    document: &Document,
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    let replaced: Vec<(String, Option<String>)> = diesel::update(
        documents::table
            .filter(documents::owner_id.eq(document.owner_id))
            .filter(documents::kind.eq(&document.kind))
            .filter(documents::vehicle_id.is_not_distinct_from(document.vehicle_id))
            .filter(documents::status.eq("active")),
    )
    .set((
        documents::status.eq("replaced"),
        documents::replaced_at.eq(now),
    ))
    .returning((documents::object_key, documents::thumbnail_key))
    .get_results(conn)
    .await?;
    diesel::insert_into(documents::table)
        .values(document)
        .execute(conn)
        .await?;
    Ok(replaced
        .into_iter()
        .flat_map(|(key, thumb)| std::iter::once(key).chain(thumb))
        .collect())
}

/// The owner's active documents.
pub async fn active_of(conn: &mut AsyncPgConnection, owner: Uuid) -> QueryResult<Vec<Document>> {
    documents::table
        .filter(documents::owner_id.eq(owner))
        .filter(documents::vehicle_id.is_null())
        .filter(documents::status.eq("active"))
        .order(documents::kind.asc())
        .select(Document::as_select())
        .load(conn)
        .await
}

/// Whether any document row names `key` (as the object or its thumbnail).
pub async fn is_referenced(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        documents::table.filter(
            documents::object_key
                .eq(key)
                .or(documents::thumbnail_key.eq(key)),
        ),
    ))
    .get_result(conn)
    .await
}

/// The owner of the document stored under `key`, if any.
pub async fn owner_of_key(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<Option<Uuid>> {
    documents::table
        .filter(
            documents::object_key
                .eq(key)
                .or(documents::thumbnail_key.eq(key)),
        )
        .select(documents::owner_id)
        .first(conn)
        .await
        .optional()
}

/// Sets a driver's KYC state and profile fields.
pub async fn set_verification(
    conn: &mut AsyncPgConnection,
    driver: Uuid,
    verification: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(driver))
        .set((
            users::verification.eq(verification),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .await
}

/// Replaced or rejected documents that ended before `cutoff`, oldest first.
pub async fn ended_before(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Document>> {
    documents::table
        .filter(documents::status.ne("active"))
        .filter(documents::replaced_at.lt(cutoff))
        .order(documents::replaced_at.asc())
        .limit(limit)
        .select(Document::as_select())
        .load(conn)
        .await
}

/// Deletes the rows `ids` (their objects are gone).
pub async fn delete(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::delete(documents::table.filter(documents::id.eq_any(ids)))
        .execute(conn)
        .await
}

/// Records a KYC decision on `driver` (only a driver whose KYC is
/// `pending` or decided before): sets `users.verification` and
/// `is_verified`, rejects its active documents on a rejection, and writes
/// the audit row. `None` when there is no such driver or nothing to decide
/// (never completed its profile).
pub async fn decide(
    conn: &mut AsyncPgConnection,
    driver: Uuid,
    approve: bool,
    reason: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<(Uuid, Option<Uuid>)>> {
    let decision = if approve { "approved" } else { "rejected" };
    let decided: Option<(Uuid, Option<Uuid>)> = diesel::update(
        users::table
            .find(driver)
            .filter(users::role.eq("driver"))
            .filter(users::verification.ne("unverified")),
    )
    .set((
        users::verification.eq(decision),
        users::is_verified.eq(approve),
        users::updated_at.eq(now),
    ))
    .returning((users::id, users::transporter_id))
    .get_result(conn)
    .await
    .optional()?;
    if decided.is_none() {
        return Ok(None);
    }
    if !approve {
        diesel::update(
            documents::table
                .filter(documents::owner_id.eq(driver))
                .filter(documents::status.eq("active")),
        )
        .set((
            documents::status.eq("rejected"),
            documents::replaced_at.eq(now),
        ))
        .execute(conn)
        .await?;
    }
    diesel::insert_into(kyc_decisions::table)
        .values((
            kyc_decisions::driver_id.eq(driver),
            kyc_decisions::decision.eq(decision),
            kyc_decisions::reason.eq(reason),
            kyc_decisions::actor.eq(actor),
            kyc_decisions::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(decided)
}

/// Drivers waiting for a KYC decision: (id, name, transporter, since).
pub async fn pending_drivers(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(Uuid, Option<String>, Option<Uuid>, DateTime<Utc>)>> {
    users::table
        .filter(users::verification.eq("pending"))
        .order(users::created_at.asc())
        .select((
            users::id,
            users::name,
            users::transporter_id,
            users::updated_at,
        ))
        .load(conn)
        .await
}

/// The KYC state of each of `drivers`.
pub async fn verifications(
    conn: &mut AsyncPgConnection,
    drivers: &[Uuid],
) -> QueryResult<Vec<(Uuid, String)>> {
    users::table
        .filter(users::id.eq_any(drivers))
        .select((users::id, users::verification))
        .load(conn)
        .await
}

/// A vehicle's active documents.
pub async fn of_vehicle(conn: &mut AsyncPgConnection, vehicle: Uuid) -> QueryResult<Vec<Document>> {
    documents::table
        .filter(documents::vehicle_id.eq(vehicle))
        .filter(documents::status.eq("active"))
        .order(documents::kind.asc())
        .select(Document::as_select())
        .load(conn)
        .await
}

/// Active documents expiring on or before `until` whose owner was not
/// warned yet.
pub async fn expiring(
    conn: &mut AsyncPgConnection,
    until: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<Document>> {
    documents::table
        .filter(documents::status.eq("active"))
        .filter(documents::expires_on.le(until))
        .filter(documents::expiry_warned_at.is_null())
        .order(documents::expires_on.asc())
        .limit(limit)
        .select(Document::as_select())
        .load(conn)
        .await
}

/// Marks the owner warned of document `id`'s expiry; `false` when another
/// instance did it first.
pub async fn mark_warned(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        documents::table
            .find(id)
            .filter(documents::expiry_warned_at.is_null()),
    )
    .set(documents::expiry_warned_at.eq(now))
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}
