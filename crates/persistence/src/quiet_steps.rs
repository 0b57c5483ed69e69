//! Dispatch steps that find nobody near the pickup: most steps of an order
//! in a quiet area, and all of them when no one is online. Such a step
//! tells nobody and writes no event; it only records the order's step
//! number and moves (or ends) its schedule. A sweep batch of them is
//! written by one statement, without the per-order lock, reads and
//! transaction of a step that tells someone ([`crate::dispatch::record_step`]).

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_orders::DispatchState;
use weelo_orders::TruckStatus;

use crate::cached::cached;
use crate::rows::{Order, searching_names};

/// A searching order whose next step is due, with what finding someone
/// for it takes: where it starts and which vehicle keys still search.
#[derive(Debug, Clone, QueryableByName)]
pub struct DueStep {
    /// The order.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Pickup, degrees north.
    #[diesel(sql_type = Double)]
    pub pickup_latitude: f64,
    /// Pickup, degrees east.
    #[diesel(sql_type = Double)]
    pub pickup_longitude: f64,
    /// When the order was made (the steps count from it).
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The vehicle keys of its trucks still searching.
    #[diesel(sql_type = Array<Text>)]
    pub open_keys: Vec<String>,
}

const DUE_SQL: &str = "
SELECT o.id, o.pickup_latitude, o.pickup_longitude, o.created_at,
    ARRAY(SELECT DISTINCT t.vehicle_key FROM truck_requests t
          WHERE t.order_id = o.id AND t.status = $3) AS open_keys
FROM dispatch_schedule s JOIN orders o ON o.id = s.order_id
WHERE s.due_at <= $1 AND o.status = ANY($2) AND o.expires_at > $1
ORDER BY s.due_at
LIMIT $4";

/// Searching orders still in their window whose next step is due, soonest
/// first, at most `limit`.
pub async fn due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> diesel::QueryResult<Vec<DueStep>> {
    cached(
        diesel::sql_query(DUE_SQL)
            .bind::<Timestamptz, _>(now)
            .bind::<Array<Text>, _>(searching_names())
            .bind::<Text, _>(TruckStatus::Searching.as_str())
            .bind::<diesel::sql_types::BigInt, _>(limit),
    )
    .load(conn)
    .await
}

/// A step that found nobody: its number and when the next one is due
/// (`None` after the last).
#[derive(Debug, Clone, Copy)]
pub struct QuietStep {
    /// The order.
    pub order_id: Uuid,
    /// The step's number.
    pub number: i32,
    /// When the next step is due.
    pub next_at: Option<DateTime<Utc>>,
}

const RECORD_SQL: &str = "
WITH d AS (
    SELECT * FROM unnest($1::uuid[], $2::int4[], $3::timestamptz[]) AS d(id, step, next_at)
), locked AS (
    SELECT o.id FROM orders o JOIN d ON d.id = o.id
    WHERE o.status = ANY($5) AND o.expires_at > $4
    FOR UPDATE OF o SKIP LOCKED
), moved AS (
    UPDATE dispatch_schedule s SET due_at = d.next_at
    FROM d JOIN locked l ON l.id = d.id
    WHERE s.order_id = d.id AND d.next_at IS NOT NULL AND s.due_at <= $4
    RETURNING s.order_id
), ended AS (
    DELETE FROM dispatch_schedule s
    USING d JOIN locked l ON l.id = d.id
    WHERE s.order_id = d.id AND d.next_at IS NULL AND s.due_at <= $4
    RETURNING s.order_id
), claimed AS (
    SELECT order_id FROM moved UNION ALL SELECT order_id FROM ended
)
UPDATE orders o SET dispatch_attempts = GREATEST(o.dispatch_attempts, d.step),
    dispatch_state = $6, updated_at = $4, version = o.version + 1
FROM d JOIN claimed c ON c.order_id = d.id
WHERE o.id = d.id
RETURNING o.*";

/// Records `steps` in one statement: for each order still searching, not
/// locked by another step and still due, the step number and the next
/// step's schedule. Returns the orders as they are now (the others were
/// taken by another instance's sweep, or stopped searching).
pub async fn record(
    conn: &mut AsyncPgConnection,
    steps: &[QuietStep],
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Order>> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    cached(
        diesel::sql_query(RECORD_SQL)
            .bind::<Array<SqlUuid>, _>(steps.iter().map(|s| s.order_id).collect::<Vec<_>>())
            .bind::<Array<Integer>, _>(steps.iter().map(|s| s.number).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamptz>>, _>(
                steps.iter().map(|s| s.next_at).collect::<Vec<_>>(),
            )
            .bind::<Timestamptz, _>(now)
            .bind::<Array<Text>, _>(searching_names())
            .bind::<Text, _>(DispatchState::Broadcasting.as_str()),
    )
    .load(conn)
    .await
}
