//! Realtime delivery: Socket.IO v5 over Engine.IO v4 at `/socket.io/`
//! (WebSocket and long-polling with upgrade) and a plain JSON WebSocket at
//! `/ws`, both over actix-ws; rooms, and delivery across instances through
//! the cache's pub/sub.
//!
//! It depends on `cache` for fan-out and never on `persistence`: events reach
//! it after commit, from the outbox relay.
//!
//! # Layout
//! - [`engine`]: Engine.IO v4 packets and polling payloads.
//! - [`socket`]: Socket.IO v5 packets.
//! - [`hub`]: the per-instance owner of sockets and rooms.
//! - [`gate`]: what the application answers (identity, room rights).
//! - [`session`]: one connection, whatever its transport.
//! - [`polling`]: long-polling and the upgrade to WebSocket.
//! - [`routes`]: the `/socket.io/` endpoint.

pub mod engine;
pub mod gate;
pub mod hub;
pub mod polling;
pub mod routes;
pub mod session;
pub mod socket;

pub use gate::{Gatekeeper, Identity};
pub use hub::{Delivery, Hub};
pub use polling::PollRegistry;
pub use session::{EngineConfig, Realtime};
