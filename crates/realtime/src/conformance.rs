//! The reference server of the official Engine.IO and Socket.IO protocol
//! test suites (`socketio/engine.io-protocol`, `socketio/socket.io-protocol`,
//! folder `test-suite/`): `/engine.io/` sends every message back, and
//! `/socket.io/` accepts `/` and `/custom`, emits `auth` with the CONNECT
//! payload, answers `message` with `message-back` and acknowledges
//! `message-with-ack` with the same arguments, binary included. Run it with
//! `cargo run -p weelo-realtime --example conformance`; the end-to-end tests
//! mount it too.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::gate::{ClientEvent, Emit, Gatekeeper, Handshake, Identity, Reply};
use crate::hub::Hub;
use crate::routes;
use crate::session::{EngineConfig, Layer, Realtime};

/// The suites' timings: pings every 300 ms, 200 ms to answer, 1 MB
/// messages, 1 s to CONNECT; 5 ms between the CONNECT answer and `auth`
/// (see [`EngineConfig::greeting_gap`]).
pub fn config() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
        connect_timeout: Duration::from_millis(1_000),
        greeting_gap: Duration::from_millis(5),
    }
}

/// The answers the Socket.IO suite expects.
pub struct EchoGate;

impl Gatekeeper for EchoGate {
    fn connect<'a>(&'a self, handshake: Handshake<'a>) -> BoxFuture<'a, Result<Identity, String>> {
        Box::pin(async move {
            if !matches!(handshake.namespace, "/" | "/custom") {
                return Err("Invalid namespace".to_owned());
            }
            Ok(Identity {
                user_id: Uuid::nil(),
                role: "guest".to_owned(),
                rooms: Vec::new(),
                greeting: vec![Emit::new("auth", handshake.auth.clone())],
                valid_for: None,
            })
        })
    }

    fn on_event<'a>(&'a self, _who: &'a Identity, event: ClientEvent) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            match (event.namespace.as_str(), event.name.as_str()) {
                ("/", "message") => Reply {
                    emits: vec![Emit {
                        name: "message-back".to_owned(),
                        args: event.args,
                    }],
                    ..Reply::default()
                },
                (_, "message-with-ack") => Reply {
                    ack: Some(event.args),
                    ..Reply::default()
                },
                _ => Reply::default(),
            }
        })
    }
}

/// Both endpoints of the conformance server.
#[derive(Clone)]
pub struct Conformance {
    engine: Realtime,
    socket_io: Realtime,
}

impl Conformance {
    /// Both servers with `config` (call inside a Tokio runtime: it starts a hub).
    pub fn new(config: EngineConfig) -> Self {
        let hub = Hub::new(64);
        Self {
            engine: Realtime {
                layer: Layer::Echo,
                ..Realtime::socket_io(hub.clone(), Arc::new(EchoGate), config)
            },
            socket_io: Realtime::socket_io(hub, Arc::new(EchoGate), config),
        }
    }

    /// The hub of its Socket.IO sockets (each is in the room `socket:{sid}`).
    pub fn hub(&self) -> &Hub {
        &self.socket_io.hub
    }

    /// Mounts `/engine.io/` and `/socket.io/`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        routes::mount("/engine.io/", self.engine.clone())(cfg);
        routes::mount("/socket.io/", self.socket_io.clone())(cfg);
    }
}
