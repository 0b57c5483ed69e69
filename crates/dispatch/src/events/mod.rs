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
    ($($(#[$doc:meta])* $variant:ident($payload:ty) = $constant:ident $name:literal,)*) => {
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
            $($(#[$doc])* $variant($payload),)*
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
    OrderCreated(OrderCreated) = ORDER_CREATED "order_created",
    /// An order offered to a transporter.
    NewBroadcast(Box<NewBroadcast>) = NEW_BROADCAST "new_broadcast",
    /// Where an order's search stands.
    BroadcastStateChanged(BroadcastStateChanged) = BROADCAST_STATE_CHANGED "broadcast_state_changed",
    /// An order left a transporter's list.
    BroadcastDismissed(BroadcastDismissed) = BROADCAST_DISMISSED "broadcast_dismissed",
    /// A transporter's hold ran out.
    HoldExpired(HoldExpired) = HOLD_EXPIRED "hold_expired",
    /// A trip offered to a driver.
    TripAssigned(Box<TripAssigned>) = TRIP_ASSIGNED "trip_assigned",
    /// The "X of Y" progress of an order.
    TrucksRemaining(TrucksRemaining) = TRUCKS_REMAINING_UPDATE "trucks_remaining_update",
    /// Every truck of an order is taken.
    BookingFullyFilled(BookingFullyFilled) = BOOKING_FULLY_FILLED "booking_fully_filled",
    /// An assignment moved.
    AssignmentStatusChanged(AssignmentStatusChanged) = ASSIGNMENT_STATUS_CHANGED "assignment_status_changed",
    /// A driver did not answer in time.
    DriverTimeout(DriverTimeout) = DRIVER_TIMEOUT "driver_timeout",
    /// Every truck of an order has delivered.
    BookingCompleted(BookingCompleted) = BOOKING_COMPLETED "booking_completed",
    /// An order's window ended before it filled.
    OrderExpired(OrderExpired) = ORDER_EXPIRED "order_expired",
    /// The customer cancelled an order.
    OrderCancelled(OrderCancelled) = ORDER_CANCELLED "order_cancelled",
    /// An offer's window closed before the order filled (to the
    /// transporters it was offered to).
    BroadcastExpired(BroadcastExpired) = BROADCAST_EXPIRED "broadcast_expired",
    /// A transporter's driver accepted a trip.
    DriverAccepted(DriverAccepted) = DRIVER_ACCEPTED "driver_accepted",
    /// A transporter's driver declined a trip.
    DriverDeclined(DriverDeclined) = DRIVER_DECLINED "driver_declined",
    /// A vehicle joined a fleet.
    VehicleRegistered(VehicleRegistered) = VEHICLE_REGISTERED "vehicle_registered",
    /// A vehicle's details changed.
    VehicleUpdated(VehicleChange) = VEHICLE_UPDATED "vehicle_updated",
    /// A vehicle left a fleet.
    VehicleDeleted(VehicleChange) = VEHICLE_DELETED "vehicle_deleted",
    /// A vehicle went on or came off a job.
    VehicleStatusChanged(VehicleChange) = VEHICLE_STATUS_CHANGED "vehicle_status_changed",
    /// A fleet's counters moved (with every vehicle change).
    FleetUpdated(VehicleChange) = FLEET_UPDATED "fleet_updated",
    /// A driver joined a fleet.
    DriverAdded(DriverAdded) = DRIVER_ADDED "driver_added",
    /// A driver left a fleet (its transporter removed it).
    DriverDeleted(DriverDeleted) = DRIVER_DELETED "driver_deleted",
    /// A driver went online or offline.
    DriverStatusChanged(DriverStatusChanged) = DRIVER_STATUS_CHANGED "driver_status_changed",
    /// A customer rated a driver's trip.
    DriverRatingUpdated(DriverRatingUpdated) = DRIVER_RATING_UPDATED "driver_rating_updated",
    /// A driver's trip ended by a cancel.
    TripCancelled(TripCancelled) = TRIP_CANCELLED "trip_cancelled",
    /// The customer's truck has gone quiet.
    DriverConnectivityIssue(DriverConnectivityIssue) = DRIVER_CONNECTIVITY_ISSUE "driver_connectivity_issue",
    /// A vehicle's registration or insurance expires soon.
    VehicleDocumentExpiring(VehicleDocumentExpiring) = VEHICLE_DOCUMENT_EXPIRING "vehicle_document_expiring",
    /// An operator approved or rejected a driver's KYC.
    DriverVerificationChanged(DriverVerificationChanged) = DRIVER_VERIFICATION_CHANGED "driver_verification_changed",
    /// The customer's truck is about to reach the pickup.
    DriverApproaching(DriverApproaching) = DRIVER_APPROACHING "driver_approaching",
    /// The transporter's driver has gone quiet.
    DriverMayBeOffline(DriverMayBeOffline) = DRIVER_MAY_BE_OFFLINE "driver_may_be_offline",
    /// A truck's latest fix (live only).
    LocationUpdated(LocationUpdated) = LOCATION_UPDATED "location_updated",
    /// A socket's greeting.
    Connected(Connected) = CONNECTED "connected",
    /// The answer to `ping`.
    Pong(Pong) = PONG "pong",
    /// The socket joined an order's room.
    BookingJoined(BookingJoined) = BOOKING_JOINED "booking_joined",
    /// A socket request refused.
    Error(SocketError) = ERROR "error",
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
