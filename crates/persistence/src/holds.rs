//! Holds: a transporter claims searching trucks of one line of an order.
//! Claims take rows with `FOR UPDATE SKIP LOCKED`, so however many press at
//! once each truck goes to exactly one of them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_availability::VehicleStatus;
use weelo_orders::HoldStatus;
use weelo_orders::TruckStatus;

pub use crate::rows::Hold;
use crate::schema::{holds, truck_requests};
use crate::stored::names;

/// A hold to place.
#[derive(Debug, Clone)]
pub struct NewHold<'a> {
    /// Who holds.
    pub transporter_id: Uuid,
    /// Which order.
    pub order_id: Uuid,
    /// The line's type.
    pub vehicle_type: &'a str,
    /// The line's subtype.
    pub vehicle_subtype: &'a str,
    /// The line's key.
    pub vehicle_key: &'a str,
    /// How many trucks.
    pub quantity: i32,
    /// Until when.
    pub expires_at: DateTime<Utc>,
}

/// Why a hold was not placed.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The transporter already holds this line of the order.
    AlreadyHolding(Box<HoldSummary>),
    /// Fewer searching trucks of the line than asked for.
    NotEnough {
        /// How many are searching and not being claimed right now.
        available: i64,
    },
}

/// What an existing hold is, for the refusal.
#[derive(Debug, PartialEq, Eq)]
pub struct HoldSummary {
    /// Its id.
    pub id: Uuid,
    /// Its trucks.
    pub quantity: i32,
    /// Its end.
    pub expires_at: DateTime<Utc>,
}

impl From<&Hold> for HoldSummary {
    fn from(hold: &Hold) -> Self {
        Self {
            id: hold.id,
            quantity: hold.quantity,
            expires_at: hold.expires_at,
        }
    }
}

/// Puts the held trucks of `hold_ids` back to searching.
async fn reopen_trucks(
    conn: &mut AsyncPgConnection,
    hold_ids: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        truck_requests::table
            .filter(truck_requests::hold_id.eq_any(hold_ids))
            .filter(truck_requests::status.eq(TruckStatus::Held.as_str())),
    )
    .set((
        truck_requests::status.eq(TruckStatus::Searching.as_str()),
        truck_requests::hold_id.eq(None::<Uuid>),
        truck_requests::transporter_id.eq(None::<Uuid>),
        truck_requests::updated_at.eq(now),
    ))
    .execute(conn)
    .await
}

/// The transporter's active hold of this line of the order.
pub async fn active_for(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    order_id: Uuid,
    vehicle_key: &str,
) -> QueryResult<Option<Hold>> {
    holds::table
        .filter(holds::transporter_id.eq(transporter_id))
        .filter(holds::order_id.eq(order_id))
        .filter(holds::vehicle_key.eq(vehicle_key))
        .filter(holds::status.eq(HoldStatus::Active.as_str()))
        .select(Hold::as_select())
        .first(conn)
        .await
        .optional()
}

#[derive(QueryableByName)]
struct Spare {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    spare: i64,
}

/// How many more trucks of `vehicle_key` the transporter can take on: its
/// available vehicles of that key less the trucks its live holds of the key
/// already claim (each becomes a vehicle at confirm). Locks the
/// transporter's row for the caller's transaction, so its concurrent holds
/// are counted one after the other.
pub async fn spare_vehicles(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    vehicle_key: &str,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    // The lock first, in a statement of its own: under READ COMMITTED the
    // count below then sees the holds a concurrent transaction committed
    // while this one waited (one statement would count from its start).
    let locked = diesel::sql_query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::Uuid, _>(transporter_id)
        .execute(conn)
        .await?;
    if locked == 0 {
        return Ok(0);
    }
    let row: Option<Spare> = diesel::sql_query(
        "SELECT (SELECT count(*) FROM vehicles WHERE transporter_id = $1 AND vehicle_key = $2 \
                     AND status = $4 AND deleted_at IS NULL) \
              - (SELECT COALESCE(sum(quantity), 0) FROM holds WHERE transporter_id = $1 \
                     AND vehicle_key = $2 AND status = $5 AND expires_at > $3)::bigint \
                AS spare",
    )
    .bind::<diesel::sql_types::Uuid, _>(transporter_id)
    .bind::<diesel::sql_types::Text, _>(vehicle_key)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::Text, _>(VehicleStatus::Available.as_str())
    .bind::<diesel::sql_types::Text, _>(HoldStatus::Active.as_str())
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map_or(0, |row| row.spare.max(0)))
}

/// Places a hold in the caller's transaction: claims `quantity` searching
/// trucks of the line (skipping rows another transaction is claiming),
/// marks them held and records the hold. Returns the hold and its trucks.
pub async fn place(
    conn: &mut AsyncPgConnection,
    hold: &NewHold<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Result<(Hold, Vec<Uuid>), Refused>> {
    if let Some(existing) =
        active_for(conn, hold.transporter_id, hold.order_id, hold.vehicle_key).await?
    {
        return Ok(Err(Refused::AlreadyHolding(Box::new(HoldSummary::from(
            &existing,
        )))));
    }
    let claimed: Vec<Uuid> = truck_requests::table
        .filter(truck_requests::order_id.eq(hold.order_id))
        .filter(truck_requests::vehicle_key.eq(hold.vehicle_key))
        .filter(truck_requests::status.eq(TruckStatus::Searching.as_str()))
        .order(truck_requests::request_number.asc())
        .limit(i64::from(hold.quantity))
        .select(truck_requests::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    if claimed.len() < usize::try_from(hold.quantity).unwrap_or(usize::MAX) {
        return Ok(Err(Refused::NotEnough {
            available: i64::try_from(claimed.len()).unwrap_or(0),
        }));
    }
    let placed = diesel::insert_into(holds::table)
        .values((
            holds::transporter_id.eq(hold.transporter_id),
            holds::order_id.eq(hold.order_id),
            holds::vehicle_type.eq(hold.vehicle_type),
            holds::vehicle_subtype.eq(hold.vehicle_subtype),
            holds::vehicle_key.eq(hold.vehicle_key),
            holds::quantity.eq(hold.quantity),
            holds::expires_at.eq(hold.expires_at),
            holds::created_at.eq(now),
            holds::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .returning(Hold::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    let Some(placed) = placed else {
        // A concurrent hold of the same line by the same transporter won.
        let existing =
            active_for(conn, hold.transporter_id, hold.order_id, hold.vehicle_key).await?;
        return Ok(Err(match existing {
            Some(existing) => Refused::AlreadyHolding(Box::new(HoldSummary::from(&existing))),
            None => Refused::NotEnough { available: 0 },
        }));
    };
    diesel::update(truck_requests::table.filter(truck_requests::id.eq_any(&claimed)))
        .set((
            truck_requests::status.eq(TruckStatus::Held.as_str()),
            truck_requests::hold_id.eq(placed.id),
            truck_requests::transporter_id.eq(hold.transporter_id),
            truck_requests::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(Ok((placed, claimed)))
}

/// Places a hold of the one searching truck `truck` (the one-step accept)
/// in the caller's transaction, which holds the order row.
pub async fn place_truck(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    truck: &crate::rows::TruckRequest,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Result<Hold, Refused>> {
    if let Some(existing) =
        active_for(conn, transporter_id, truck.order_id, &truck.vehicle_key).await?
    {
        return Ok(Err(Refused::AlreadyHolding(Box::new(HoldSummary::from(
            &existing,
        )))));
    }
    let open: Option<Uuid> = truck_requests::table
        .find(truck.id)
        .filter(truck_requests::status.eq(TruckStatus::Searching.as_str()))
        .select(truck_requests::id)
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()?;
    if open.is_none() {
        return Ok(Err(Refused::NotEnough { available: 0 }));
    }
    let placed: Hold = diesel::insert_into(holds::table)
        .values((
            holds::transporter_id.eq(transporter_id),
            holds::order_id.eq(truck.order_id),
            holds::vehicle_type.eq(&truck.vehicle_type),
            holds::vehicle_subtype.eq(&truck.vehicle_subtype),
            holds::vehicle_key.eq(&truck.vehicle_key),
            holds::quantity.eq(1),
            holds::expires_at.eq(expires_at),
            holds::created_at.eq(now),
            holds::updated_at.eq(now),
        ))
        .returning(Hold::as_returning())
        .get_result(conn)
        .await?;
    diesel::update(truck_requests::table.find(truck.id))
        .set((
            truck_requests::status.eq(TruckStatus::Held.as_str()),
            truck_requests::hold_id.eq(placed.id),
            truck_requests::transporter_id.eq(transporter_id),
            truck_requests::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(Ok(placed))
}

/// The transporter's active holds, newest first.
pub async fn active_of(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Hold>> {
    holds::table
        .filter(holds::transporter_id.eq(transporter_id))
        .filter(holds::status.eq(HoldStatus::Active.as_str()))
        .filter(holds::expires_at.gt(now))
        .order(holds::created_at.desc())
        .select(Hold::as_select())
        .load(conn)
        .await
}

/// Releases the transporter's active hold `hold_id`: the hold becomes
/// `released` and its trucks searching again. `false` when there is no such
/// active hold of theirs.
pub async fn release(
    conn: &mut AsyncPgConnection,
    transporter_id: Uuid,
    hold_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let released = diesel::update(
        holds::table
            .filter(holds::id.eq(hold_id))
            .filter(holds::transporter_id.eq(transporter_id))
            .filter(holds::status.eq_any(names(&HoldStatus::sources_of(HoldStatus::Released)))),
    )
    .set((
        holds::status.eq(HoldStatus::Released.as_str()),
        holds::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    if released == 0 {
        return Ok(false);
    }
    reopen_trucks(conn, &[hold_id], now).await?;
    let order_id: Uuid = holds::table
        .find(hold_id)
        .select(holds::order_id)
        .first(conn)
        .await?;
    // The trucks are open again: dispatch them to transporters not told yet.
    crate::dispatch::schedule(conn, order_id, Some(now)).await?;
    Ok(true)
}

/// Expires up to `limit` active holds past their deadline (skipping rows
/// another instance is expiring): each becomes `expired`, its trucks
/// searching again (the caller tells its transporter). Run in a
/// transaction.
pub async fn expire_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Hold>> {
    let due: Vec<Uuid> = holds::table
        .filter(holds::status.eq_any(names(&HoldStatus::sources_of(HoldStatus::Expired))))
        .filter(holds::expires_at.le(now))
        .order(holds::expires_at.asc())
        .limit(limit)
        .select(holds::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let expired: Vec<Hold> = diesel::update(holds::table.filter(holds::id.eq_any(&due)))
        .set((
            holds::status.eq(HoldStatus::Expired.as_str()),
            holds::updated_at.eq(now),
        ))
        .returning(Hold::as_returning())
        .get_results(conn)
        .await?;
    reopen_trucks(conn, &due, now).await?;
    for hold in &expired {
        crate::dispatch::schedule(conn, hold.order_id, Some(now)).await?;
    }
    Ok(expired)
}
