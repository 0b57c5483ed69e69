//! Realtime delivery: Socket.IO v5 over Engine.IO v4 at `/socket.io/`
//! (WebSocket and long-polling with upgrade) and a plain JSON WebSocket at
//! `/ws`, both over actix-ws; rooms, and the hub that delivers to this
//! instance's sockets.
//!
//! It depends on no other weelo crate: the application gives it a
//! [`Gatekeeper`] (token to identity and rooms, client events), and events
//! reach its hub after commit from the outbox relay of `weelo-dispatch`,
//! which carries them between instances over Redis pub/sub.
//!
//! # Layout
//! - [`engine`]: Engine.IO v4 packets (text and binary) and polling payloads.
//! - [`socket`]: Socket.IO v5 packets.
//! - [`hub`]: the per-instance owner of sockets and rooms.
//! - [`limits`]: sessions per address and in total, sockets per user, and
//!   the per-socket event rate.
//! - [`gate`]: what the application answers (connects, events).
//! - [`session`]: one Engine.IO connection, whatever its transport.
//! - `namespaces`: the Socket.IO layer of a connection.
//! - [`polling`]: long-polling and the upgrade to WebSocket.
//! - [`queue`]: the small packet queue of a connection.
//! - `body`: a WebSocket's response body, fed by that queue.
//! - [`routes`]: the Engine.IO endpoints (`/socket.io/`).
//! - `plain`: the plain JSON WebSocket at `/ws`.
//! - [`conformance`]: the server the official protocol suites test.

mod body;
pub mod conformance;
pub mod engine;
pub mod gate;
pub mod hub;
pub mod limits;
mod namespaces;
mod plain;
pub mod polling;
pub mod queue;
pub mod routes;
pub mod session;
pub mod socket;

pub use gate::{Args, ClientEvent, Emit, Gatekeeper, Handshake, Identity, Reply};
pub use hub::{Delivery, Hub, Membership};
pub use polling::PollRegistry;
pub use session::{EngineConfig, Layer, Realtime};
