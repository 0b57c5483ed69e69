//! A transporter's vehicles: upsert by normalised number, lists, soft delete.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_availability::VehicleStatus;
use weelo_availability::vehicle_status::OFF_THE_JOB;

use crate::schema::vehicles;

/// A row of `vehicles`.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = vehicles, check_for_backend(diesel::pg::Pg))]
pub struct Vehicle {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub transporter_id: Uuid,
    /// Normalised registration number (`MH12AB1234`).
    pub vehicle_number: String,
    /// Catalogue type id.
    pub vehicle_type: String,
    /// Subtype as the app sent it.
    pub vehicle_subtype: String,
    /// Normalised type + subtype.
    pub vehicle_key: String,
    /// Capacity text (`7.5 MT`).
    pub capacity: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Year of make.
    pub year: Option<i32>,
    /// RC number.
    pub rc_number: Option<String>,
    /// Where it is.
    #[diesel(deserialize_as = crate::stored::Stored<VehicleStatus>)]
    pub status: VehicleStatus,
    /// The trip it is on.
    pub current_trip_id: Option<Uuid>,
    /// The driver bound to it.
    pub assigned_driver_id: Option<Uuid>,
    /// Documents checked.
    pub is_verified: bool,
    /// Set when deleted.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What an upsert writes.
#[derive(Debug)]
pub struct VehicleInput<'a> {
    /// Normalised number.
    pub vehicle_number: &'a str,
    /// Type id.
    pub vehicle_type: &'a str,
    /// Subtype.
    pub vehicle_subtype: &'a str,
    /// Key.
    pub vehicle_key: &'a str,
    /// Capacity.
    pub capacity: Option<&'a str>,
    /// Model.
    pub model: Option<&'a str>,
    /// Year.
    pub year: Option<i32>,
    /// RC number.
    pub rc_number: Option<&'a str>,
}

#[derive(QueryableByName)]
struct Upserted {
    #[diesel(embed)]
    vehicle: Vehicle,
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

/// The outcome of an upsert.
#[derive(Debug)]
pub enum Upsert {
    /// Written; `true` when the vehicle is new.
    Saved(Box<Vehicle>, bool),
    /// The number belongs to another transporter's live vehicle.
    NumberTaken,
}

/// Inserts the vehicle, or updates it when this transporter already has the
/// number. One statement, so two transporters racing for a number cannot both
/// win.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    input: &VehicleInput<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Upsert> {
    let row: Option<Upserted> = diesel::sql_query(
        "INSERT INTO vehicles AS v (transporter_id, vehicle_number, vehicle_type, vehicle_subtype, \
             vehicle_key, capacity, model, year, rc_number, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (vehicle_number) WHERE deleted_at IS NULL DO UPDATE SET \
             vehicle_type = EXCLUDED.vehicle_type, vehicle_subtype = EXCLUDED.vehicle_subtype, \
             vehicle_key = EXCLUDED.vehicle_key, capacity = EXCLUDED.capacity, \
             model = EXCLUDED.model, year = EXCLUDED.year, rc_number = EXCLUDED.rc_number, \
             updated_at = EXCLUDED.updated_at \
         WHERE v.transporter_id = EXCLUDED.transporter_id \
         RETURNING v.*, (xmax = 0) AS inserted",
    )
    .bind::<SqlUuid, _>(transporter_id)
    .bind::<Text, _>(input.vehicle_number)
    .bind::<Text, _>(input.vehicle_type)
    .bind::<Text, _>(input.vehicle_subtype)
    .bind::<Text, _>(input.vehicle_key)
    .bind::<Nullable<Text>, _>(input.capacity)
    .bind::<Nullable<Text>, _>(input.model)
    .bind::<Nullable<Integer>, _>(input.year)
    .bind::<Nullable<Text>, _>(input.rc_number)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?;
    Ok(match row {
        Some(row) => Upsert::Saved(Box::new(row.vehicle), row.inserted),
        None => Upsert::NumberTaken,
    })
}

/// A transporter's live vehicles, oldest first.
pub async fn list(conn: &mut AsyncPgConnection, transporter_id: Uuid) -> QueryResult<Vec<Vehicle>> {
    vehicles::table
        .filter(vehicles::transporter_id.eq(transporter_id))
        .filter(vehicles::deleted_at.is_null())
        .order(vehicles::created_at.asc())
        .select(Vehicle::as_select())
        .load(conn)
        .await
}

/// One of a transporter's live vehicles.
pub async fn find(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Vehicle>> {
    vehicles::table
        .filter(vehicles::id.eq(id))
        .filter(vehicles::transporter_id.eq(transporter_id))
        .filter(vehicles::deleted_at.is_null())
        .select(Vehicle::as_select())
        .first(conn)
        .await
        .optional()
}

/// The outcome of a delete.
#[derive(Debug, PartialEq, Eq)]
pub enum Delete {
    /// Deleted.
    Deleted,
    /// No such live vehicle of this transporter.
    NotFound,
    /// It is on hold or on a trip.
    InUse,
}

/// Soft-deletes a vehicle unless it is held or on a trip (checked in the same
/// statement, so a trip starting at that moment cannot be orphaned).
pub async fn delete(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Delete> {
    let deleted = diesel::update(
        vehicles::table
            .filter(vehicles::id.eq(id))
            .filter(vehicles::transporter_id.eq(transporter_id))
            .filter(vehicles::deleted_at.is_null())
            .filter(vehicles::status.eq_any(crate::stored::names(&OFF_THE_JOB)))
            .filter(vehicles::current_trip_id.is_null()),
    )
    .set((
        vehicles::deleted_at.eq(now),
        vehicles::status.eq(VehicleStatus::Inactive.as_str()),
        vehicles::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    if deleted == 1 {
        return Ok(Delete::Deleted);
    }
    Ok(match find(conn, transporter_id, id).await? {
        Some(_) => Delete::InUse,
        None => Delete::NotFound,
    })
}
