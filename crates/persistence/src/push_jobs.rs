//! Push jobs: what the outbox's trigger wrote for each room an event is also
//! pushed to (`outbox.push_to`), one row per user with a device token, in
//! the event's transaction. Workers on any instance claim due jobs under a
//! lease (`SKIP LOCKED`: never the same job twice at once), send, and then
//! delete them, give them the tokens still owed and a later time, or drop
//! them. A worker that dies holding a claim leaves the job to the next one
//! once the lease has run out: a push may repeat, it is never lost.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A job a worker holds until its lease runs out, with its event.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedPush {
    /// The job.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The room it is for (`driver:{id}`…): the user and their role.
    #[diesel(sql_type = Text)]
    pub room: String,
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// The tokens still owed (`None`: the first attempt reads them).
    #[diesel(sql_type = Nullable<Array<Text>>)]
    pub tokens: Option<Vec<String>>,
    /// Attempts so far, this one included.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// When the event was written.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The event's name.
    #[diesel(sql_type = Text)]
    pub topic: String,
    /// The event's payload.
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    /// The event's id as the sockets know it (its delivery sequence once
    /// numbered).
    #[diesel(sql_type = BigInt)]
    pub event_id: i64,
}

const CLAIM_SQL: &str = "
WITH due AS (
    SELECT id FROM push_jobs WHERE due_at <= $1
    ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
)
UPDATE push_jobs j SET due_at = $2, attempts = j.attempts + 1
FROM due, outbox o
WHERE j.id = due.id AND o.id = j.outbox_id
RETURNING j.id, j.room, j.user_id, j.tokens, j.attempts, j.created_at, o.topic, o.payload,
    COALESCE(o.seq, o.id) AS event_id";

/// Claims up to `limit` jobs due at `now`, each until `lease_until` (when
/// another worker may take it if this one has not finished it).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> diesel::QueryResult<Vec<ClaimedPush>> {
    diesel::sql_query(CLAIM_SQL)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(lease_until)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

/// What a push needs of its user: their language and device tokens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recipient {
    /// `users.preferred_language`.
    pub language: Option<String>,
    /// Their device tokens, oldest first.
    pub tokens: Vec<String>,
}

/// The language and device tokens of each of `users` (read only once jobs
/// were claimed: an idle worker's claim touches neither table).
pub async fn recipients(
    conn: &mut AsyncPgConnection,
    users: &[Uuid],
) -> diesel::QueryResult<HashMap<Uuid, Recipient>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = Nullable<Text>)]
        language: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        token: Option<String>,
    }
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT u.id, u.preferred_language AS language, t.token \
         FROM users u LEFT JOIN device_tokens t ON t.user_id = u.id \
         WHERE u.id = ANY($1) ORDER BY t.created_at",
    )
    .bind::<Array<SqlUuid>, _>(users)
    .load(conn)
    .await?;
    let mut found: HashMap<Uuid, Recipient> = HashMap::new();
    for row in rows {
        let recipient = found.entry(row.id).or_default();
        recipient.language = row.language;
        recipient.tokens.extend(row.token);
    }
    Ok(found)
}

/// Deletes the jobs `ids` (sent, or given up); returns how many.
pub async fn finish(conn: &mut AsyncPgConnection, ids: &[i64]) -> diesel::QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::sql_query("DELETE FROM push_jobs WHERE id = ANY($1)")
        .bind::<Array<BigInt>, _>(ids)
        .execute(conn)
        .await
}

/// A job to try again: the tokens still owed and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// The job.
    pub id: i64,
    /// The tokens that did not get it yet.
    pub tokens: Vec<String>,
    /// When to try again.
    pub due_at: DateTime<Utc>,
}

/// Gives each job of `retries` its tokens still owed and its next time.
pub async fn retry(conn: &mut AsyncPgConnection, retries: &[Retry]) -> diesel::QueryResult<usize> {
    if retries.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = retries.iter().map(|r| r.id).collect();
    let tokens: Vec<serde_json::Value> = retries
        .iter()
        .map(|r| serde_json::Value::from(r.tokens.clone()))
        .collect();
    let due: Vec<DateTime<Utc>> = retries.iter().map(|r| r.due_at).collect();
    diesel::sql_query(
        "UPDATE push_jobs j SET tokens = ARRAY(SELECT jsonb_array_elements_text(x.tokens)), \
             due_at = x.due_at \
         FROM unnest($1::int8[], $2::jsonb[], $3::timestamptz[]) AS x(id, tokens, due_at) \
         WHERE j.id = x.id",
    )
    .bind::<Array<BigInt>, _>(ids)
    .bind::<Array<Jsonb>, _>(tokens)
    .bind::<Array<Timestamptz>, _>(due)
    .execute(conn)
    .await
}

/// Deletes the device tokens `tokens` (FCM said they are no longer valid);
/// a user's other tokens stay. Returns how many were deleted.
pub async fn forget_tokens(
    conn: &mut AsyncPgConnection,
    tokens: &[String],
) -> diesel::QueryResult<usize> {
    if tokens.is_empty() {
        return Ok(0);
    }
    diesel::sql_query("DELETE FROM device_tokens WHERE token = ANY($1)")
        .bind::<Array<Text>, _>(tokens)
        .execute(conn)
        .await
}

/// Jobs waiting (due or leased), for the metrics.
pub async fn waiting(conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let count: Count = diesel::sql_query("SELECT count(*) AS count FROM push_jobs")
        .get_result(conn)
        .await?;
    Ok(count.count)
}
