//! The application's side of realtime: the [`Gatekeeper`] that turns a
//! handshake token into an identity and rooms, and the outbox relay that
//! sends committed events to every instance's sockets.

mod gate;
mod recent;
mod relay;
pub mod settings;

pub use gate::{TokenGate, disconnect_session, session_room};
pub use relay::{Relay, publish_live};
pub use settings::RealtimeSettings;
