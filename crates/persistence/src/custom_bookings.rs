//! Custom long-term booking requests: created under the customer's
//! idempotency key (in the caller's transaction), listed, read, and
//! cancelled by a compare-and-set on the statuses a cancel may move from.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_orders::CustomBookingStatus;
use weelo_orders::custom_booking::CANCELLABLE;

use crate::schema::custom_bookings;

/// A stored request.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = custom_bookings, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct CustomBooking {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub pickup_city: String,
    pub pickup_state: Option<String>,
    pub drop_city: String,
    pub drop_state: Option<String>,
    pub vehicle_requirements: serde_json::Value,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub is_flexible: bool,
    pub goods_type: Option<String>,
    pub estimated_weight: Option<String>,
    pub special_requests: Option<String>,
    pub company_name: Option<String>,
    pub customer_email: Option<String>,
    #[diesel(deserialize_as = crate::stored::Stored<CustomBookingStatus>)]
    pub status: CustomBookingStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// A new request, checked by the caller.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = custom_bookings)]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct NewCustomBooking<'a> {
    pub customer_id: Uuid,
    pub pickup_city: &'a str,
    pub pickup_state: Option<&'a str>,
    pub drop_city: &'a str,
    pub drop_state: Option<&'a str>,
    pub vehicle_requirements: &'a serde_json::Value,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub is_flexible: bool,
    pub goods_type: Option<&'a str>,
    pub estimated_weight: Option<&'a str>,
    pub special_requests: Option<&'a str>,
    pub company_name: Option<&'a str>,
    pub customer_email: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Stores `request`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    request: &NewCustomBooking<'_>,
) -> QueryResult<CustomBooking> {
    diesel::insert_into(custom_bookings::table)
        .values(request)
        .returning(CustomBooking::as_returning())
        .get_result(conn)
        .await
}

/// The customer's requests, newest first, and how many there are.
pub async fn of_customer(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<CustomBooking>, i64)> {
    let page = custom_bookings::table
        .filter(custom_bookings::customer_id.eq(customer_id))
        .order(custom_bookings::created_at.desc())
        .limit(limit)
        .offset(offset)
        .select(CustomBooking::as_select())
        .load(conn)
        .await?;
    let total = custom_bookings::table
        .filter(custom_bookings::customer_id.eq(customer_id))
        .count()
        .get_result(conn)
        .await?;
    Ok((page, total))
}

/// One of the customer's requests.
pub async fn find(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<CustomBooking>> {
    custom_bookings::table
        .filter(custom_bookings::id.eq(id))
        .filter(custom_bookings::customer_id.eq(customer_id))
        .select(CustomBooking::as_select())
        .first(conn)
        .await
        .optional()
}

/// Cancels the customer's request if no decision was made on it yet; the
/// request as it now stands (`None`: no such request of theirs).
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    customer_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<(CustomBooking, bool)>> {
    let cancelled: Option<CustomBooking> = diesel::update(
        custom_bookings::table
            .filter(custom_bookings::id.eq(id))
            .filter(custom_bookings::customer_id.eq(customer_id))
            .filter(custom_bookings::status.eq_any(crate::stored::names(&CANCELLABLE))),
    )
    .set((
        custom_bookings::status.eq(CustomBookingStatus::Cancelled.as_str()),
        custom_bookings::cancelled_at.eq(now),
        custom_bookings::updated_at.eq(now),
    ))
    .returning(CustomBooking::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    if let Some(booking) = cancelled {
        return Ok(Some((booking, true)));
    }
    Ok(find(conn, customer_id, id).await?.map(|b| (b, false)))
}
