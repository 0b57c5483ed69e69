//! This instance's sockets as the use cases see them: somewhere to hand an
//! event for the rooms it names. The realtime server implements it at the
//! edge; the use cases never know which protocol the sockets speak.

use serde_json::Value;

/// One event for the sockets in some rooms.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Rooms (`customer:{id}`, `order:{id}`…).
    pub rooms: Vec<String>,
    /// Event name.
    pub name: String,
    /// Payload (an object; the stamps are added to it).
    pub data: Value,
    /// Stable id of the event, the same for every recipient: for a kept
    /// event its delivery sequence (a number, which becomes `_seq`).
    pub event_id: String,
    /// When the server sent it.
    pub server_time_ms: i64,
}

/// This instance's sockets.
pub trait Sockets: Send + Sync + 'static {
    /// Hands `delivery` to every socket of this instance in its rooms; never
    /// waits on a slow socket.
    fn deliver(&self, delivery: Delivery);
}

/// No sockets (an instance that serves none, and tests of the use cases):
/// deliveries are dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSockets;

impl Sockets for NoSockets {
    fn deliver(&self, _delivery: Delivery) {}
}
