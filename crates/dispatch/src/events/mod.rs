//! The wire contract of the sockets, in one place: every server → client
//! event ([`Event`], one variant per name with its payload struct), who it
//! goes to ([`Room`]), and the client → server events the server answers
//! ([`ClientEvent`]). An event name is written here and nowhere else; a use
//! case builds an [`Event`], addresses it ([`Event::to`]) and appends it to
//! the outbox in the transaction of the change it describes ([`append`]).

pub mod fleet;
pub mod payloads;
pub mod push;
pub mod room;
mod text;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;
use weelo_persistence::outbox::{self, NewEvent};

pub use fleet::*;
pub use payloads::*;
pub use room::Room;

macro_rules! events {
    ($($(#[doc = $doc:literal])* $variant:ident($payload:ty) = $constant:ident $name:literal to $audience:literal,)*) => {
        /// Every event name the server sends.
        pub mod names {
            $(
                #[doc = concat!("`", $name, "`")]
                pub const $constant: &str = $name;
            )*
        }

        /// A server → client event and its payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $($(#[doc = $doc])* $variant($payload),)*
        }

        /// Every event for the AsyncAPI document: its name, what it says,
        /// who hears it, and its payload's schema.
        #[cfg(feature = "schema")]
        pub fn catalogue(generator: &mut schemars::SchemaGenerator) -> Vec<EventSchema> {
            vec![$(EventSchema {
                name: $name,
                description: concat!($($doc),*).trim(),
                audience: $audience,
                payload: generator.subschema_for::<$payload>(),
            },)*]
        }

        impl Event {
            /// Every event name, in declaration order.
            pub const NAMES: &[&str] = &[$(names::$constant),*];

            /// The name the apps listen for.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => names::$constant,)*
                }
            }

            /// The JSON the apps parse.
            pub fn payload(&self) -> Value {
                match self {
                    $(Self::$variant(payload) => to_json(payload),)*
                }
            }
        }
    };
}

events! {
    /// The customer's new order (kept for replays of the order's room).
    OrderCreated(OrderCreated) = ORDER_CREATED "order_created" to "the customer (customer:{id}) and the order's room (order:{id})",
    /// An order offered to a transporter.
    NewBroadcast(Box<NewBroadcast>) = NEW_BROADCAST "new_broadcast" to "each transporter the order is offered to (transporter:{id}), personalised",
    /// Where an order's search stands.
    BroadcastStateChanged(BroadcastStateChanged) = BROADCAST_STATE_CHANGED "broadcast_state_changed" to "the customer and the order's room",
    /// An order left a transporter's list.
    BroadcastDismissed(BroadcastDismissed) = BROADCAST_DISMISSED "broadcast_dismissed" to "a transporter the order is no longer offered to",
    /// A transporter's hold ran out.
    HoldExpired(HoldExpired) = HOLD_EXPIRED "hold_expired" to "the transporter whose hold ran out",
    /// A trip offered to a driver.
    TripAssigned(Box<TripAssigned>) = TRIP_ASSIGNED "trip_assigned" to "the driver named (driver:{id})",
    /// The "X of Y" progress of an order.
    TrucksRemaining(TrucksRemaining) = TRUCKS_REMAINING_UPDATE "trucks_remaining_update" to "the customer, the order's room and the transporters offered it",
    /// Every truck of an order is taken.
    BookingFullyFilled(BookingFullyFilled) = BOOKING_FULLY_FILLED "booking_fully_filled" to "the customer, the order's room and the transporters offered it",
    /// An assignment moved.
    AssignmentStatusChanged(AssignmentStatusChanged) = ASSIGNMENT_STATUS_CHANGED "assignment_status_changed" to "the customer, the order's room, the assignment's transporter and driver",
    /// A driver did not answer in time.
    DriverTimeout(DriverTimeout) = DRIVER_TIMEOUT "driver_timeout" to "the assignment's transporter and the customer",
    /// Every truck of an order has delivered.
    BookingCompleted(BookingCompleted) = BOOKING_COMPLETED "booking_completed" to "the customer and the order's room",
    /// An order's window ended before it filled.
    OrderExpired(OrderExpired) = ORDER_EXPIRED "order_expired" to "the customer, the order's room and the transporters offered it",
    /// The customer cancelled an order.
    OrderCancelled(OrderCancelled) = ORDER_CANCELLED "order_cancelled" to "the customer, the order's room, the transporters offered it and assigned drivers",
    /// An offer's window closed before the order filled (to the
    /// transporters it was offered to).
    BroadcastExpired(BroadcastExpired) = BROADCAST_EXPIRED "broadcast_expired" to "the transporters the order was offered to",
    /// A transporter's driver accepted a trip.
    DriverAccepted(DriverAccepted) = DRIVER_ACCEPTED "driver_accepted" to "the driver's transporter",
    /// A transporter's driver declined a trip.
    DriverDeclined(DriverDeclined) = DRIVER_DECLINED "driver_declined" to "the driver's transporter",
    /// A vehicle joined a fleet.
    VehicleRegistered(VehicleRegistered) = VEHICLE_REGISTERED "vehicle_registered" to "the fleet's transporter",
    /// A vehicle's details changed.
    VehicleUpdated(VehicleChange) = VEHICLE_UPDATED "vehicle_updated" to "the fleet's transporter",
    /// A vehicle left a fleet.
    VehicleDeleted(VehicleChange) = VEHICLE_DELETED "vehicle_deleted" to "the fleet's transporter",
    /// A vehicle went on or came off a job.
    VehicleStatusChanged(VehicleChange) = VEHICLE_STATUS_CHANGED "vehicle_status_changed" to "the fleet's transporter",
    /// A fleet's counters moved (with every vehicle change).
    FleetUpdated(VehicleChange) = FLEET_UPDATED "fleet_updated" to "the fleet's transporter",
    /// A driver joined a fleet.
    DriverAdded(DriverAdded) = DRIVER_ADDED "driver_added" to "the fleet's transporter",
    /// A driver left a fleet (its transporter removed it).
    DriverDeleted(DriverDeleted) = DRIVER_DELETED "driver_deleted" to "the fleet's transporter",
    /// A driver went online or offline.
    DriverStatusChanged(DriverStatusChanged) = DRIVER_STATUS_CHANGED "driver_status_changed" to "the fleet's transporter",
    /// A customer rated a driver's trip.
    DriverRatingUpdated(DriverRatingUpdated) = DRIVER_RATING_UPDATED "driver_rating_updated" to "the driver and its transporter",
    /// A driver's trip ended by a cancel.
    TripCancelled(TripCancelled) = TRIP_CANCELLED "trip_cancelled" to "the trip's driver and its transporter",
    /// The customer's truck has gone quiet.
    DriverConnectivityIssue(DriverConnectivityIssue) = DRIVER_CONNECTIVITY_ISSUE "driver_connectivity_issue" to "the customer and the order's room",
    /// A vehicle's registration or insurance expires soon.
    VehicleDocumentExpiring(VehicleDocumentExpiring) = VEHICLE_DOCUMENT_EXPIRING "vehicle_document_expiring" to "the vehicle's transporter",
    /// An operator approved or rejected a driver's KYC.
    DriverVerificationChanged(DriverVerificationChanged) = DRIVER_VERIFICATION_CHANGED "driver_verification_changed" to "the driver and its transporter",
    /// The customer's truck is about to reach the pickup.
    DriverApproaching(DriverApproaching) = DRIVER_APPROACHING "driver_approaching" to "the customer and the order's room",
    /// The transporter's driver has gone quiet.
    DriverMayBeOffline(DriverMayBeOffline) = DRIVER_MAY_BE_OFFLINE "driver_may_be_offline" to "the driver's transporter",
    /// A truck's latest fix (live only).
    LocationUpdated(LocationUpdated) = LOCATION_UPDATED "location_updated" to "the order's room and the trip's transporter (live only)",
    /// A socket's greeting.
    Connected(Connected) = CONNECTED "connected" to "the socket that connected",
    /// The answer to `ping`.
    Pong(Pong) = PONG "pong" to "the socket that sent ping",
    /// The socket joined an order's room.
    BookingJoined(BookingJoined) = BOOKING_JOINED "booking_joined" to "the socket that sent join_booking",
    /// A socket request refused.
    Error(SocketError) = ERROR "error" to "the socket whose request was refused",
}

/// An event as the AsyncAPI document describes it.
#[cfg(feature = "schema")]
#[derive(Debug, Clone)]
pub struct EventSchema {
    /// The name the apps listen for.
    pub name: &'static str,
    /// What it says.
    pub description: &'static str,
    /// Who hears it.
    pub audience: &'static str,
    /// Its payload's schema.
    pub payload: schemars::Schema,
}

/// The events about a fleet rather than an order: live counters, not part
/// of the dispatch replay or a reconnect's backlog.
pub const FLEET_EVENTS: &[&str] = &[
    names::VEHICLE_REGISTERED,
    names::VEHICLE_UPDATED,
    names::VEHICLE_DELETED,
    names::VEHICLE_STATUS_CHANGED,
    names::FLEET_UPDATED,
    names::DRIVER_ADDED,
    names::DRIVER_DELETED,
    names::DRIVER_STATUS_CHANGED,
];

fn to_json<T: Serialize>(payload: &T) -> Value {
    // Serialising these plain structs cannot fail: no maps with non-string
    // keys, no custom serialisers that error.
    serde_json::to_value(payload).unwrap_or(Value::Null)
}

/// An event addressed to its audience.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// What happened.
    pub event: Event,
    /// Who hears it.
    pub audience: Vec<Room>,
    /// The order it concerns (the order's event history).
    pub order_id: Option<Uuid>,
}

impl Event {
    /// This event for `audience`, about order `order_id`.
    pub fn to(self, audience: impl IntoIterator<Item = Room>, order_id: Uuid) -> Outgoing {
        Outgoing {
            event: self,
            audience: audience.into_iter().collect(),
            order_id: Some(order_id),
        }
    }
}

impl Event {
    /// This event for `audience`, about no order (a fleet's changes).
    pub fn to_fleet(self, audience: impl IntoIterator<Item = Room>) -> Outgoing {
        Outgoing {
            event: self,
            audience: audience.into_iter().collect(),
            order_id: None,
        }
    }
}

impl Outgoing {
    /// The outbox row.
    pub fn record(&self) -> NewEvent {
        let topic = self.event.name();
        NewEvent {
            topic,
            recipients: room::names(&self.audience),
            payload: self.event.payload(),
            order_id: self.order_id,
            push_to: push::rooms(topic, &self.audience),
        }
    }
}

/// Appends `events` to the outbox in the caller's transaction.
pub async fn append(
    conn: &mut AsyncPgConnection,
    events: &[Outgoing],
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<i64>> {
    let records: Vec<NewEvent> = events.iter().map(Outgoing::record).collect();
    outbox::append(conn, &records, now).await
}

macro_rules! client_events {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// The client → server events the server answers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ClientEvent {
            $($(#[$doc])* $variant,)*
        }

        impl ClientEvent {
            /// Every client event name.
            pub const NAMES: &[&str] = &[$($name),*];

            /// The event called `name`, if the server answers it.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// Its name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

client_events! {
    /// A liveness probe; answered with `pong`.
    Ping = "ping",
    /// Start hearing an order's room.
    JoinBooking = "join_booking",
    /// Stop hearing an order's room.
    LeaveBooking = "leave_booking",
    /// A driver's fix on a trip.
    UpdateLocation = "update_location",
    /// The driver app's beat while online (updates `lastSeenAt`).
    Heartbeat = "heartbeat",
    /// A new push token for this device.
    FcmTokenRefresh = "fcm_token_refresh",
    /// The captain app got an offer (`{orderId, source, receivedAt}`).
    DispatchAck = "dispatch_ack",
    /// The same, under the broadcast flow's name.
    BroadcastAck = "broadcast_ack",
}
