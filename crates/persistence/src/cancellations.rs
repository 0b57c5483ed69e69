//! The cancellation ledger and disputes: a row per customer cancel with
//! what its stage cost (written in the cancel's transaction), the
//! penalties still due, and the disputes a customer opens when a cancel is
//! blocked. Amounts are recorded; nothing here moves money.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::rows::Assignment;
use crate::schema::{assignments, cancellations, disputes};

/// A ledger row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cancellations, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct Cancellation {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub stage: String,
    pub decision: String,
    pub reason: Option<String>,
    pub penalty_amount: i64,
    pub penalty_breakdown: serde_json::Value,
    pub driver_compensation: serde_json::Value,
    pub settlement_state: String,
    pub created_at: DateTime<Utc>,
}

/// Writes `row` (one per order: a repeat is ignored).
pub async fn record(conn: &mut AsyncPgConnection, row: &Cancellation) -> QueryResult<usize> {
    diesel::insert_into(cancellations::table)
        .values(row)
        .on_conflict(cancellations::order_id)
        .do_nothing()
        .execute(conn)
        .await
}

/// The customer's penalties still due, oldest first.
pub async fn pending_of(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
) -> QueryResult<Vec<Cancellation>> {
    cancellations::table
        .filter(cancellations::customer_id.eq(customer_id))
        .filter(cancellations::settlement_state.eq("pending"))
        .order(cancellations::created_at.asc())
        .select(Cancellation::as_select())
        .load(conn)
        .await
}

/// What `customer_id` still owes: ₹ in all and how many cancels (the
/// partial index of pending rows answers it).
pub async fn pending_total(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
) -> QueryResult<(i64, i64)> {
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::BigInt;
    cancellations::table
        .filter(cancellations::customer_id.eq(customer_id))
        .filter(cancellations::settlement_state.eq("pending"))
        // SUM of BIGINT is NUMERIC in PostgreSQL: cast back (a customer's
        // penalties are far below 2^63 rupees).
        .select((
            sql::<BigInt>("COALESCE(SUM(penalty_amount), 0)::int8"),
            count_star(),
        ))
        .first(conn)
        .await
}

/// The order's trucks still running (not ended), locked so that no trip
/// step moves them while a cancel is priced.
pub async fn running_of_order(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .filter(assignments::order_id.eq(order_id))
        .filter(assignments::ended_at.is_null())
        .select(Assignment::as_select())
        .for_update()
        .load(conn)
        .await
}

/// A dispute.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disputes, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct Dispute {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub stage: String,
    pub reason_code: Option<String>,
    pub notes: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Opens a dispute of `order_id` for `customer_id`.
pub async fn open_dispute(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    customer_id: Uuid,
    stage: &str,
    reason_code: Option<&str>,
    notes: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Dispute> {
    diesel::insert_into(disputes::table)
        .values((
            disputes::order_id.eq(order_id),
            disputes::customer_id.eq(customer_id),
            disputes::stage.eq(stage),
            disputes::reason_code.eq(reason_code),
            disputes::notes.eq(notes),
            disputes::created_at.eq(now),
        ))
        .returning(Dispute::as_returning())
        .get_result(conn)
        .await
}

/// The disputes of the customer's order, oldest first.
pub async fn disputes_of(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    order_id: Uuid,
) -> QueryResult<Vec<Dispute>> {
    disputes::table
        .filter(disputes::order_id.eq(order_id))
        .filter(disputes::customer_id.eq(customer_id))
        .order(disputes::created_at.asc())
        .select(Dispute::as_select())
        .load(conn)
        .await
}
