//! The counters of a transporter's fleet the captain app keeps live
//! (`fleetStats`, `driverStats`): read in the transaction of the change
//! that moved them, so the event carries the figures as they now stand.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;
use weelo_availability::VehicleStatus;

/// A fleet's vehicles by where they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, QueryableByName)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FleetStats {
    /// Live vehicles.
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    /// Free for a job.
    #[diesel(sql_type = BigInt)]
    pub available: i64,
    /// Held or on a trip.
    #[diesel(sql_type = BigInt)]
    pub in_transit: i64,
    /// In the workshop.
    #[diesel(sql_type = BigInt)]
    pub maintenance: i64,
}

/// A fleet's drivers by what they are doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, QueryableByName)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DriverStats {
    /// Active drivers.
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    /// Online and on no trip.
    #[diesel(sql_type = BigInt)]
    pub available: i64,
    /// On an accepted trip not yet ended.
    #[diesel(sql_type = BigInt)]
    pub on_trip: i64,
}

/// The vehicle counters of `transporter_id`.
pub async fn fleet(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
) -> diesel::QueryResult<FleetStats> {
    diesel::sql_query(
        "SELECT count(*) AS total, \
             count(*) FILTER (WHERE status = $2) AS available, \
             count(*) FILTER (WHERE status IN ($3, $4)) AS in_transit, \
             count(*) FILTER (WHERE status = $5) AS maintenance \
         FROM vehicles WHERE transporter_id = $1 AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(transporter_id)
    .bind::<Text, _>(VehicleStatus::Available.as_str())
    .bind::<Text, _>(VehicleStatus::OnHold.as_str())
    .bind::<Text, _>(VehicleStatus::InTransit.as_str())
    .bind::<Text, _>(VehicleStatus::Maintenance.as_str())
    .get_result(conn)
    .await
}

/// The driver counters of `transporter_id`.
pub async fn drivers(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
) -> diesel::QueryResult<DriverStats> {
    diesel::sql_query(
        "WITH busy AS ( \
             SELECT DISTINCT driver_id FROM assignments \
             WHERE transporter_id = $1 AND ended_at IS NULL AND driver_accepted_at IS NOT NULL) \
         SELECT count(*) AS total, \
             count(*) FILTER (WHERE u.is_available AND b.driver_id IS NULL) AS available, \
             count(b.driver_id) AS on_trip \
         FROM users u LEFT JOIN busy b ON b.driver_id = u.id \
         WHERE u.transporter_id = $1 AND u.is_active",
    )
    .bind::<SqlUuid, _>(transporter_id)
    .get_result(conn)
    .await
}
