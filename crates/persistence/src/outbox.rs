//! The outbox: every domain event, written in the transaction of the change
//! it describes. The realtime relay publishes rows after commit; the id is
//! the sequence replays page through.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::outbox;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The event name the apps listen for (`order_expired`…).
    pub topic: &'static str,
    /// Rooms to deliver to (`customer:{id}`, `order:{id}`…).
    pub recipients: Vec<String>,
    /// The body, in the apps' shape.
    pub payload: serde_json::Value,
    /// The order it concerns.
    pub order_id: Option<Uuid>,
}

/// Appends `events`; returns their ids.
pub async fn append(
    conn: &mut AsyncPgConnection,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> QueryResult<Vec<i64>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<_> = events
        .iter()
        .map(|event| {
            (
                outbox::topic.eq(event.topic),
                outbox::recipients.eq(event
                    .recipients
                    .iter()
                    .cloned()
                    .map(Some)
                    .collect::<Vec<_>>()),
                outbox::payload.eq(&event.payload),
                outbox::order_id.eq(event.order_id),
                outbox::created_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(outbox::table)
        .values(rows)
        .returning(outbox::id)
        .get_results(conn)
        .await
}

/// A stored event.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct StoredEvent {
    /// Sequence.
    pub id: i64,
    /// Event name.
    pub topic: String,
    /// Rooms.
    pub recipients: Vec<Option<String>>,
    /// Body.
    pub payload: serde_json::Value,
    /// The order.
    pub order_id: Option<Uuid>,
    /// When written.
    pub created_at: DateTime<Utc>,
}

/// The events of one order, oldest first.
pub async fn of_order(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Vec<StoredEvent>> {
    outbox::table
        .filter(outbox::order_id.eq(order_id))
        .order(outbox::id.asc())
        .select(StoredEvent::as_select())
        .load(conn)
        .await
}

/// Deletes published events older than `before`; returns how many.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::published_at.is_not_null())
            .filter(outbox::created_at.lt(before)),
    )
    .execute(conn)
    .await
}

const CLAIM_SQL: &str = "
UPDATE outbox SET published_at = $1
WHERE id IN (
    SELECT id FROM outbox WHERE published_at IS NULL
    ORDER BY id LIMIT $2
    FOR UPDATE SKIP LOCKED
)
RETURNING id, topic, recipients, payload, order_id, created_at";

/// Claims up to `limit` unpublished events, oldest first, and marks them
/// published at `now`, in one statement (run in a transaction: the rows
/// stay locked until it ends, so another instance's relay skips them, and
/// a relay that fails before its commit leaves them to be relayed again).
pub async fn claim_unpublished(
    conn: &mut AsyncPgConnection,
    limit: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<StoredEvent>> {
    let mut events: Vec<StoredEvent> = crate::cached::cached(
        diesel::sql_query(CLAIM_SQL)
            .bind::<diesel::sql_types::Timestamptz, _>(now)
            .bind::<diesel::sql_types::BigInt, _>(limit),
    )
    .load(conn)
    .await?;
    // RETURNING keeps no order.
    events.sort_unstable_by_key(|event| event.id);
    Ok(events)
}

/// Events addressed to `room` after sequence `after`, oldest first, at most
/// `limit` (the dispatch replay of a transporter).
pub async fn for_room_after(
    conn: &mut AsyncPgConnection,
    room: &str,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    outbox::table
        .filter(outbox::recipients.contains(vec![Some(room.to_owned())]))
        .filter(outbox::id.gt(after))
        .order(outbox::id.asc())
        .limit(limit)
        .select(StoredEvent::as_select())
        .load(conn)
        .await
}

/// Events published at or after `since`, by sequence, at most `limit`:
/// what a subscriber that lost its pub/sub connection may have missed.
pub async fn published_since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    outbox::table
        .filter(outbox::published_at.ge(since))
        .order(outbox::id.asc())
        .limit(limit)
        .select(StoredEvent::as_select())
        .load(conn)
        .await
}

/// The lowest sequence still kept (older ones were pruned).
pub async fn oldest_id(conn: &mut AsyncPgConnection) -> QueryResult<Option<i64>> {
    outbox::table
        .select(diesel::dsl::min(outbox::id))
        .first(conn)
        .await
}
