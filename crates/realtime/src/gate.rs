//! What the realtime server asks of the application: who a handshake's
//! `auth` payload belongs to (and which rooms that gives it), and whether it
//! may join an order's room. `api` implements it with tokens and PostgreSQL,
//! so this crate stays free of storage.

use futures_util::future::BoxFuture;
use uuid::Uuid;

/// An authenticated socket's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user.
    pub user_id: Uuid,
    /// `customer`, `transporter` or `driver`.
    pub role: String,
    /// Rooms joined at connect (`user:{id}`, `{role}:{id}`…).
    pub rooms: Vec<String>,
    /// Events the socket missed while away (`auth.lastSeq`), emitted right
    /// after `connected`, oldest first: `(name, data)`.
    pub backlog: Vec<(String, serde_json::Value)>,
}

/// The application's answers.
pub trait Gatekeeper: Send + Sync {
    /// Checks a handshake's `auth` object (`{token, …}`); the error is the
    /// message of the CONNECT_ERROR.
    fn connect<'a>(
        &'a self,
        auth: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<Identity, String>>;

    /// Whether `who` may join the room of order `order_id` (its own orders only).
    fn may_join_order<'a>(&'a self, who: &'a Identity, order_id: &'a str) -> BoxFuture<'a, bool>;

    /// Any other client event (`heartbeat`, `update_location`,
    /// `dispatch_ack`, `broadcast_ack`, `fcm_token_refresh`…), routed to the
    /// application; events it does not know it ignores.
    fn on_event<'a>(
        &'a self,
        who: &'a Identity,
        name: &'a str,
        data: &'a serde_json::Value,
    ) -> BoxFuture<'a, ()>;
}
