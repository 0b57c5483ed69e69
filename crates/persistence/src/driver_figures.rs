//! A driver's figures, each one SQL aggregate over indexed columns
//! (`assignments.driver_id`, `assignments.transporter_id`): what a fleet's
//! drivers are doing now, completed trips and their fares and distance over
//! a period and per day (in India's time), and how the driver answered.
//! Earnings are the fares of completed trips (`truck_requests.price_per_truck`);
//! distance is the order's.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_orders::AssignmentStatus;

/// The time zone the apps' days are counted in.
pub const DAY_ZONE: &str = "Asia/Kolkata";

/// What one driver of a fleet is doing now, and has done.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct DriverWork {
    /// The driver.
    #[diesel(sql_type = SqlUuid)]
    pub driver_id: Uuid,
    /// The trip of its live assignment (waiting for its answer or
    /// running), if any.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub current_trip_id: Option<Uuid>,
    /// The vehicle of that assignment.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub vehicle_id: Option<Uuid>,
    /// Its number.
    #[diesel(sql_type = Nullable<Text>)]
    pub vehicle_number: Option<String>,
    /// Trips completed, ever.
    #[diesel(sql_type = BigInt)]
    pub total_trips: i64,
}

/// What every driver of `transporter_id` who ever had an assignment is
/// doing now (drivers without one are absent: idle, no trips).
pub async fn work_of_fleet(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
) -> diesel::QueryResult<HashMap<Uuid, DriverWork>> {
    let rows: Vec<DriverWork> = diesel::sql_query(
        "SELECT a.driver_id, \
             (array_agg(a.trip_id ORDER BY a.assigned_at DESC) FILTER (WHERE a.ended_at IS NULL))[1] \
                 AS current_trip_id, \
             (array_agg(a.vehicle_id ORDER BY a.assigned_at DESC) FILTER (WHERE a.ended_at IS NULL))[1] \
                 AS vehicle_id, \
             (array_agg(a.vehicle_number ORDER BY a.assigned_at DESC) FILTER (WHERE a.ended_at IS NULL))[1] \
                 AS vehicle_number, \
             count(*) FILTER (WHERE a.status = $2) AS total_trips \
         FROM assignments a WHERE a.transporter_id = $1 GROUP BY a.driver_id",
    )
    .bind::<SqlUuid, _>(transporter_id)
    .bind::<Text, _>(AssignmentStatus::Completed.as_str())
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|w| (w.driver_id, w)).collect())
}

/// Completed trips, their fares and distance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName)]
pub struct Totals {
    /// Trips.
    #[diesel(sql_type = BigInt)]
    pub trips: i64,
    /// Fares, rupees.
    #[diesel(sql_type = BigInt)]
    pub earnings: i64,
    /// Kilometres.
    #[diesel(sql_type = BigInt)]
    pub distance_km: i64,
}

const COMPLETED_SINCE: &str = "
SELECT count(*) AS trips, COALESCE(sum(t.price_per_truck), 0)::int8 AS earnings,
    COALESCE(sum(o.distance_km), 0)::int8 AS distance_km
FROM assignments a
JOIN truck_requests t ON t.id = a.truck_request_id
JOIN orders o ON o.id = a.order_id
WHERE a.driver_id = $1 AND a.status = $2 AND a.ended_at >= $3";

/// The driver's trips completed since `since`.
pub async fn completed_since(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    since: DateTime<Utc>,
) -> diesel::QueryResult<Totals> {
    diesel::sql_query(COMPLETED_SINCE)
        .bind::<SqlUuid, _>(driver_id)
        .bind::<Text, _>(AssignmentStatus::Completed.as_str())
        .bind::<Timestamptz, _>(since)
        .get_result(conn)
        .await
}

/// One day of a driver's completed trips.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Day {
    /// The day, in [`DAY_ZONE`].
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    /// Its trips, fares and distance.
    #[diesel(embed)]
    pub totals: Totals,
}

/// The driver's completed trips since `since`, per day in [`DAY_ZONE`],
/// oldest first (days without a trip are absent).
pub async fn by_day_since(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
    since: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Day>> {
    diesel::sql_query(format!(
        "SELECT (a.ended_at AT TIME ZONE '{DAY_ZONE}')::date AS date, count(*) AS trips, \
             COALESCE(sum(t.price_per_truck), 0)::int8 AS earnings, \
             COALESCE(sum(o.distance_km), 0)::int8 AS distance_km \
         FROM assignments a \
         JOIN truck_requests t ON t.id = a.truck_request_id \
         JOIN orders o ON o.id = a.order_id \
         WHERE a.driver_id = $1 AND a.status = $2 AND a.ended_at >= $3 \
         GROUP BY 1 ORDER BY 1"
    ))
    .bind::<SqlUuid, _>(driver_id)
    .bind::<Text, _>(AssignmentStatus::Completed.as_str())
    .bind::<Timestamptz, _>(since)
    .load(conn)
    .await
}

/// How a driver answered the trips offered to it, and how they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName)]
pub struct Answers {
    /// Trips offered.
    #[diesel(sql_type = BigInt)]
    pub offered: i64,
    /// Accepted.
    #[diesel(sql_type = BigInt)]
    pub accepted: i64,
    /// Declined.
    #[diesel(sql_type = BigInt)]
    pub declined: i64,
    /// Left to time out.
    #[diesel(sql_type = BigInt)]
    pub timed_out: i64,
    /// Accepted and completed.
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    /// Accepted and then cancelled.
    #[diesel(sql_type = BigInt)]
    pub cancelled_after_accepting: i64,
}

/// How `driver_id` answered, over every trip ever offered to it.
pub async fn answers(
    conn: &mut AsyncPgConnection,
    driver_id: Uuid,
) -> diesel::QueryResult<Answers> {
    diesel::sql_query(
        "SELECT count(*) AS offered, \
             count(*) FILTER (WHERE driver_accepted_at IS NOT NULL) AS accepted, \
             count(*) FILTER (WHERE status = $2) AS declined, \
             count(*) FILTER (WHERE status = $3) AS timed_out, \
             count(*) FILTER (WHERE status = $4) AS completed, \
             count(*) FILTER (WHERE status = $5 AND driver_accepted_at IS NOT NULL) \
                 AS cancelled_after_accepting \
         FROM assignments WHERE driver_id = $1",
    )
    .bind::<SqlUuid, _>(driver_id)
    .bind::<Text, _>(AssignmentStatus::DriverDeclined.as_str())
    .bind::<Text, _>(AssignmentStatus::TimedOut.as_str())
    .bind::<Text, _>(AssignmentStatus::Completed.as_str())
    .bind::<Text, _>(AssignmentStatus::Cancelled.as_str())
    .get_result(conn)
    .await
}
