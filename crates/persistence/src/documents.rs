//! Documents: the rows that say which stored object is whose, of what kind,
//! and whether it is the one in force. Storing a new one of a kind replaces
//! the active one in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{documents, users};

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
