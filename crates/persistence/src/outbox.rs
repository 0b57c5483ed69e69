//! The outbox: every domain event, written in the transaction of the change
//! it describes. After commit the relay numbers it (`seq`, in commit
//! order, one relay at a time), delivers it and publishes it to the other
//! instances; replays page through `seq`, never through the id, which is
//! taken at insert and so can be lower for an event that committed later.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
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
    /// The rooms among `recipients` whose user is also told by push when
    /// no socket of theirs is live (a push job per user with a device
    /// token, written by the outbox's trigger in this transaction).
    pub push_to: Vec<String>,
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
                outbox::push_to.eq(&event.push_to),
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
    /// Row id (insert order).
    pub id: i64,
    /// Delivery sequence (commit order), once the relay numbered it.
    pub seq: Option<i64>,
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

impl StoredEvent {
    /// The number a client replays from: the delivery sequence (every event
    /// the replay queries return has one).
    pub fn sequence(&self) -> i64 {
        self.seq.unwrap_or(self.id)
    }
}

/// Deletes numbered events older than `before` (published or not: past
/// the retention nobody replays them); returns how many.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::seq.is_not_null())
            .filter(outbox::created_at.lt(before)),
    )
    .execute(conn)
    .await
}

const NUMBER_SQL: &str = "
WITH fresh AS (
    SELECT id, nextval('outbox_delivery_seq') AS seq
    FROM (SELECT id FROM outbox WHERE seq IS NULL ORDER BY id LIMIT $1) AS unnumbered
)
UPDATE outbox SET seq = fresh.seq FROM fresh WHERE outbox.id = fresh.id
RETURNING outbox.id, outbox.seq, outbox.topic, outbox.recipients, outbox.payload,
          outbox.order_id, outbox.created_at";

/// The advisory-lock key relays number under.
const RELAY_LOCK_KEY: i64 = 0x7765_656c_6f73_6571;

/// Whether a committed event waits for its number (one cheap look through
/// a partial index, no lock: an idle relay pass stops here).
pub async fn has_unnumbered(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        outbox::table.filter(outbox::seq.is_null()),
    ))
    .get_result(conn)
    .await
}

/// Numbers up to `limit` committed, unnumbered events in the caller's
/// transaction, in id order. The relay lock is taken first, in a statement
/// of its own, so relays number one after the other and each sees what the
/// one before it committed: the numbers follow commit order and appear in
/// order. They come from a sequence, so none is ever given twice: a caller
/// may hand the events out before its commit, and if the commit fails they
/// are numbered again later (a duplicate for a client, never a number
/// reused for another event).
pub async fn number_new(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<StoredEvent>> {
    // An advisory lock rather than a row lock: it writes nothing, so a pass
    // that finds nothing commits without waiting for the disk.
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::BigInt, _>(RELAY_LOCK_KEY)
        .execute(conn)
        .await?;
    let mut events: Vec<StoredEvent> = crate::cached::cached(
        diesel::sql_query(NUMBER_SQL).bind::<diesel::sql_types::BigInt, _>(limit),
    )
    .load(conn)
    .await?;
    // RETURNING keeps no order.
    events.sort_unstable_by_key(StoredEvent::sequence);
    Ok(events)
}

/// Numbered events not yet through pub/sub, locked for the caller's
/// transaction and skipping rows another relay holds: two instances never
/// publish the same events at once.
pub async fn claim_pending(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    outbox::table
        .filter(outbox::seq.is_not_null())
        .filter(outbox::published_at.is_null())
        .order(outbox::seq.asc())
        .limit(limit)
        .select(StoredEvent::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// Numbers what committed and is not numbered yet, if anything (a replay
/// reads right after a commit, before the relay's next pass): one cheap
/// look when there is nothing, the relay's numbering otherwise. Run outside
/// any transaction of the caller.
pub async fn number_committed(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let waiting: bool = diesel::select(diesel::dsl::exists(
        outbox::table.filter(outbox::seq.is_null()),
    ))
    .get_result(conn)
    .await?;
    if !waiting {
        return Ok(0);
    }
    let numbered = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| number_new(conn, 10_000).await)
        .await?;
    Ok(numbered.len())
}

/// Marks the events of sequences `seqs` published once pub/sub took them.
pub async fn mark_published_seqs(
    conn: &mut AsyncPgConnection,
    seqs: &[i64],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::seq.eq_any(seqs))
            .filter(outbox::published_at.is_null()),
    )
    .set(outbox::published_at.eq(now))
    .execute(conn)
    .await
}

/// Numbered events after sequence `after`, by sequence, at most `limit`:
/// what a subscriber that lost its pub/sub connection may have missed.
pub async fn numbered_after(
    conn: &mut AsyncPgConnection,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    outbox::table
        .filter(outbox::seq.gt(after))
        .order(outbox::seq.asc())
        .limit(limit)
        .select(StoredEvent::as_select())
        .load(conn)
        .await
}

#[derive(QueryableByName)]
struct LastSeq {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    last_seq: i64,
}

/// The highest sequence given to an event still kept (0 for none).
pub async fn last_seq(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let last: LastSeq = diesel::sql_query("SELECT COALESCE(max(seq), 0) AS last_seq FROM outbox")
        .get_result(conn)
        .await?;
    Ok(last.last_seq)
}

/// Numbered events addressed to `room` after sequence `after`, oldest
/// first, at most `limit`, leaving out the topics in `except` (the dispatch
/// replay of a transporter leaves out its fleet's events). An event not
/// numbered yet is left out: it gets a number above every one given so
/// far, so a client resuming from the last it saw will get it.
pub async fn for_room_after(
    conn: &mut AsyncPgConnection,
    room: &str,
    after: i64,
    limit: i64,
    except: &[&str],
) -> QueryResult<Vec<StoredEvent>> {
    outbox::table
        .filter(outbox::recipients.contains(vec![Some(room.to_owned())]))
        .filter(outbox::seq.gt(after))
        .filter(outbox::topic.ne_all(except))
        .order(outbox::seq.asc())
        .limit(limit)
        .select(StoredEvent::as_select())
        .load(conn)
        .await
}

/// The lowest sequence still kept (older ones were pruned).
pub async fn oldest_seq(conn: &mut AsyncPgConnection) -> QueryResult<Option<i64>> {
    outbox::table
        .select(diesel::dsl::min(outbox::seq))
        .first(conn)
        .await
}

/// The events not yet published: how many, and when the oldest was
/// written (the relay's lag).
pub async fn backlog(conn: &mut AsyncPgConnection) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    outbox::table
        .filter(outbox::published_at.is_null())
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox::created_at),
        ))
        .get_result(conn)
        .await
}
