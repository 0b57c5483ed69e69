//! One Engine.IO connection, whatever its transport: the open packet, the
//! server's pings and the client's pongs, close, and the messages handed to
//! the layer above (Socket.IO, or the raw echo of the conformance server).
//! The connection is a task and a `select!` over the client's packets (an
//! inbound channel the transports feed) and the heartbeat; what it sends
//! goes to an outbound queue the current transport drains (WebSocket
//! frames, or long-polling answers until the client upgrades). Room events
//! go into that queue from the hub directly; when it is full the socket
//! cannot keep up and the session ends.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use uuid::Uuid;

use crate::engine::{EnginePacket, Frame};
use crate::gate::Gatekeeper;
use crate::hub::Hub;
use crate::namespaces::SocketIo;
use crate::queue;

/// Engine.IO timings and limits.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long it waits for the pong.
    pub ping_timeout: Duration,
    /// Largest message accepted, bytes.
    pub max_payload: usize,
    /// How long a client may take to CONNECT to a namespace.
    pub connect_timeout: Duration,
    /// A pause between a CONNECT answer and the greeting events. Zero in
    /// production; a client that reads frame by frame and only then listens
    /// for the next one (the official test suite) misses a second frame
    /// that arrives in the same TCP read, so its server sets a few ms.
    pub greeting_gap: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            connect_timeout: Duration::from_millis(45_000),
            greeting_gap: Duration::ZERO,
        }
    }
}

/// What runs above Engine.IO.
#[derive(Clone)]
pub enum Layer {
    /// Socket.IO v5, answered by the application.
    SocketIo(Arc<dyn Gatekeeper>),
    /// Raw Engine.IO that sends every message back (the conformance suite's
    /// `/engine.io/` server).
    Echo,
}

/// What a session needs.
#[derive(Clone)]
pub struct Realtime {
    /// This instance's hub.
    pub hub: Hub,
    /// The layer above Engine.IO.
    pub layer: Layer,
    /// Timings.
    pub config: EngineConfig,
    /// Connections reachable by sid (long-polling and upgrades).
    pub polls: crate::polling::PollRegistry,
}

impl Realtime {
    /// A Socket.IO server answered by `gate`.
    pub fn socket_io(hub: Hub, gate: Arc<dyn Gatekeeper>, config: EngineConfig) -> Self {
        Self {
            hub,
            layer: Layer::SocketIo(gate),
            config,
            polls: crate::polling::PollRegistry::default(),
        }
    }
}

/// What a transport hands the connection.
#[derive(Debug)]
pub enum Inbound {
    /// A packet from the client.
    Packet(EnginePacket),
    /// Something that is not Engine.IO, or a protocol error found by the
    /// transport (two pending polls): the session ends with a close.
    Malformed,
}

/// Whether the session goes on, and if not, who ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    Continue,
    /// The client closed (a pending poll gets a noop).
    ClientClosed,
    /// The server ends it (a pending poll gets a close).
    Stop,
}

/// Where the session's packets go.
#[derive(Clone)]
pub struct Outbox {
    out: queue::Sender<Frame>,
}

impl Outbox {
    /// Queues a frame; a transport that does not drain in time ends the session.
    pub fn frame(&self, frame: Frame) -> Flow {
        match self.out.try_send(frame) {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        }
    }

    /// Queues a packet.
    pub fn packet(&self, packet: EnginePacket) -> Flow {
        self.frame(packet.frame())
    }

    /// A sender on the queue (the hub's, for room events).
    pub(crate) fn sender(&self) -> queue::Sender<Frame> {
        self.out.clone()
    }
}

/// The layer above Engine.IO, for one connection.
enum Upper {
    SocketIo(Box<SocketIo>),
    Echo,
}

impl Upper {
    async fn on_message(&mut self, packet: EnginePacket, out: &Outbox) -> Flow {
        match self {
            Self::SocketIo(layer) => layer.on_message(packet, out).await,
            Self::Echo => out.packet(packet),
        }
    }

    async fn evicted(&mut self) {
        match self {
            Self::SocketIo(layer) => layer.evicted().await,
            Self::Echo => std::future::pending().await,
        }
    }

    fn awaiting_connect(&self) -> bool {
        matches!(self, Self::SocketIo(layer) if !layer.ever_connected())
    }

    fn close(&mut self) {
        if let Self::SocketIo(layer) = self {
            layer.close();
        }
    }
}

/// Runs a connection until either side ends it: `inbound` carries the
/// client's packets, `out` takes the server's.
pub async fn run(
    sid: Uuid,
    mut inbound: queue::Receiver<Inbound>,
    out: queue::Sender<Frame>,
    realtime: Realtime,
    upgrades: bool,
) {
    let config = realtime.config;
    let outbox = Outbox { out };
    let mut upper = match &realtime.layer {
        Layer::SocketIo(gate) => Upper::SocketIo(Box::new(SocketIo::new(
            sid,
            realtime.hub.clone(),
            gate.clone(),
            config,
        ))),
        Layer::Echo => Upper::Echo,
    };
    let open = json!({
        "sid": sid,
        "upgrades": if upgrades { json!(["websocket"]) } else { json!([]) },
        "pingInterval": config.ping_interval.as_millis(),
        "pingTimeout": config.ping_timeout.as_millis(),
        "maxPayload": config.max_payload,
    });
    let mut flow = outbox.packet(EnginePacket::Open(open.to_string()));
    let opened = Instant::now();
    let connect_deadline = opened + config.connect_timeout;
    let mut ping = tokio::time::interval_at(opened + config.ping_interval, config.ping_interval);
    let mut pong_due: Option<Instant> = None;
    while flow == Flow::Continue {
        let deadline = pong_due.unwrap_or_else(|| opened + Duration::from_secs(86_400 * 365));
        flow = tokio::select! {
            packet = inbound.recv() => match packet {
                Some(Inbound::Packet(EnginePacket::Pong(_))) => {
                    pong_due = None;
                    Flow::Continue
                }
                Some(Inbound::Packet(EnginePacket::Ping(data))) => {
                    outbox.packet(EnginePacket::Pong(data))
                }
                Some(Inbound::Packet(EnginePacket::Close)) => Flow::ClientClosed,
                Some(Inbound::Packet(
                    packet @ (EnginePacket::Message(_) | EnginePacket::Binary(_)),
                )) => {
                    // Boxed: the handling of a message (a connect, an event
                    // awaiting the application) is large and brief, and an
                    // idle connection should not carry its room.
                    Box::pin(upper.on_message(packet, &outbox)).await
                }
                Some(Inbound::Packet(_)) => Flow::Continue,
                Some(Inbound::Malformed) => {
                    tracing::debug!(socket.sid = %sid, "malformed engine.io packet; closing");
                    Flow::Stop
                }
                None => Flow::ClientClosed,
            },
            // The hub dropped this socket: it could not keep up.
            () = upper.evicted() => Flow::Stop,
            scheduled = ping.tick() => {
                if pong_due.is_none() {
                    // From when the ping was due, however late the timer ran.
                    pong_due = Some(scheduled + config.ping_timeout);
                }
                outbox.packet(EnginePacket::Ping(String::new()))
            }
            () = tokio::time::sleep_until(deadline) => Flow::Stop,
            () = tokio::time::sleep_until(connect_deadline), if upper.awaiting_connect() => Flow::Stop,
        };
    }
    upper.close();
    if flow == Flow::ClientClosed {
        realtime
            .polls
            .linger(sid, config.ping_interval + config.ping_timeout);
    } else {
        realtime.polls.remove(sid);
    }
    // A poll still waiting is answered: a noop when the client closed, a
    // close when the server did.
    let last = if flow == Flow::ClientClosed {
        EnginePacket::Noop
    } else {
        EnginePacket::Close
    };
    let _ = outbox.packet(last);
    tracing::debug!(socket.sid = %sid, "socket closed");
}
