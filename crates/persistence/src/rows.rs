//! The rows every statement module shares (orders, truck requests,
//! assignments, holds, a dispatch step) and the guards they are read
//! with: the bottom floor of this crate, so the statement modules import it
//! and never each other in a circle.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_orders::status::SEARCHING;
use weelo_orders::{AssignmentStatus, DispatchState, HoldStatus, OrderStatus, TruckStatus};

use crate::outbox::NewEvent;
use crate::schema::{assignments, holds, orders, truck_requests};
use crate::stored::Stored;

/// A row of `orders`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub pickup_latitude: f64,
    pub pickup_longitude: f64,
    pub pickup_address: String,
    pub pickup_city: Option<String>,
    pub pickup_state: Option<String>,
    pub drop_latitude: f64,
    pub drop_longitude: f64,
    pub drop_address: String,
    pub drop_city: Option<String>,
    pub drop_state: Option<String>,
    pub stops: serde_json::Value,
    pub distance_km: i32,
    pub goods_type: Option<String>,
    pub total_trucks: i32,
    pub trucks_filled: i32,
    pub total_amount: i64,
    #[diesel(deserialize_as = Stored<OrderStatus>)]
    pub status: OrderStatus,
    #[diesel(deserialize_as = Stored<DispatchState>)]
    pub dispatch_state: DispatchState,
    pub dispatch_attempts: i32,
    pub online_candidates: i32,
    pub notified_transporters: i32,
    pub reason_code: Option<String>,
    pub cancel_reason: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl Order {
    /// The parsed status (`Expired` for an unknown one, which the CHECK forbids).
    pub fn status(&self) -> OrderStatus {
        self.status
    }
}

/// A row of `truck_requests`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = truck_requests, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct TruckRequest {
    pub id: Uuid,
    pub order_id: Uuid,
    pub request_number: i32,
    pub vehicle_type: String,
    pub vehicle_subtype: String,
    pub vehicle_key: String,
    pub price_per_truck: i32,
    #[diesel(deserialize_as = Stored<TruckStatus>)]
    pub status: TruckStatus,
    pub hold_id: Option<Uuid>,
    pub transporter_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub driver_id: Option<Uuid>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub client_price_per_truck: Option<i32>,
    pub server_price_per_truck: Option<i32>,
}

/// The stored names of the searching statuses: the SQL guard of every
/// query about orders still looking for trucks.
pub(crate) fn searching_names() -> Vec<&'static str> {
    names(&SEARCHING)
}

/// The idempotency key a create is answered under.
#[derive(Debug, Clone, Copy)]
pub struct AnswerKey<'a> {
    /// Scope of the key (`create-order`).
    pub scope: &'a str,
    /// The key.
    pub key: &'a str,
    /// Hash of the request body.
    pub request_hash: &'a str,
    /// The answer to store as JSON text (also the `order_created` event's
    /// payload).
    pub answer: &'a str,
}

/// Order `id` locked `FOR UPDATE`: the first lock of a change of an order.
pub async fn lock_order(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Order>> {
    orders::table
        .find(id)
        .select(Order::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// A row of `assignments`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assignments, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct Assignment {
    pub id: Uuid,
    pub trip_id: Uuid,
    pub order_id: Uuid,
    pub truck_request_id: Uuid,
    pub hold_id: Option<Uuid>,
    pub transporter_id: Uuid,
    pub vehicle_id: Uuid,
    pub driver_id: Uuid,
    pub vehicle_number: String,
    #[diesel(deserialize_as = Stored<AssignmentStatus>)]
    pub status: AssignmentStatus,
    pub driver_deadline: DateTime<Utc>,
    pub decline_reason: Option<String>,
    pub assigned_at: DateTime<Utc>,
    pub driver_accepted_at: Option<DateTime<Utc>>,
    pub declined_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub trip_started_at: Option<DateTime<Utc>>,
    pub silence_reported_at: Option<DateTime<Utc>>,
}

impl Assignment {
    /// The parsed status (`Cancelled` for an unknown one, which the CHECK forbids).
    pub fn status(&self) -> AssignmentStatus {
        self.status
    }
}

pub(crate) use crate::stored::names;

/// A row of `holds`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = holds, check_for_backend(diesel::pg::Pg))]
#[expect(missing_docs, reason = "the columns are documented in the migration")]
pub struct Hold {
    pub id: Uuid,
    pub transporter_id: Uuid,
    pub order_id: Uuid,
    pub vehicle_type: String,
    pub vehicle_subtype: String,
    pub vehicle_key: String,
    pub quantity: i32,
    #[diesel(deserialize_as = Stored<HoldStatus>)]
    pub status: HoldStatus,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A transporter told about an order.
#[derive(Debug, Clone)]
pub struct Notified {
    /// The transporter.
    pub transporter_id: Uuid,
    /// How far its last beat was from the pickup.
    pub distance_m: f64,
}

/// One dispatch step's outcome, to record.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Its number (1 = the first radius).
    pub number: i32,
    /// Transporters found online near the pickup (before filtering).
    pub online_candidates: i32,
    /// Those told now.
    pub notified: &'a [Notified],
    /// Their `new_broadcast`s and the customer's update.
    pub events: &'a [NewEvent],
    /// When the next step is due; `None` after the last.
    pub next_at: Option<DateTime<Utc>>,
}
