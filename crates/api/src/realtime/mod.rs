//! The application's side of realtime: the [`Gatekeeper`] that turns a
//! handshake token into an identity and rooms. The outbox relay that sends committed events to every
//! instance's sockets is `weelo_dispatch::relay`.
//!
//! [`Gatekeeper`]: weelo_realtime::Gatekeeper

mod gate;
mod sockets;

pub use gate::{TokenGate, disconnect_session, session_room};
pub use sockets::HubSockets;
