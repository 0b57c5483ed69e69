//! One Engine.IO connection, whatever its transport: the open packet, the
//! server's pings and the client's pongs, close, and the messages handed to
//! the layer above (Socket.IO, or the raw echo of the conformance server).
//! A `Connection` is driven by a `select!` over the client's packets and
//! its timers; what it sends goes to an outbound queue the transport drains.
//! A connection opened on a WebSocket is one task that reads the socket and
//! runs the timers, its queue drained by the response body itself; a
//! long-polling one (which may upgrade) is a task of its own fed by an
//! inbound queue, its transport changing under it. Room events go into the
//! outbound queue from the hub directly; when it is full the socket cannot
//! keep up, the hub evicts it and the session ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use uuid::Uuid;

use crate::engine::{EnginePacket, Frame};
use crate::gate::Gatekeeper;
use crate::hub::Hub;
use crate::limits::{Guard, SessionPermit};
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
    /// Timings, shared by every connection (each holds the handle, not a
    /// copy of its 72 bytes).
    pub config: Arc<EngineConfig>,
    /// Connections reachable by sid (long-polling and upgrades).
    pub polls: crate::polling::PollRegistry,
    /// Sessions per address and in total, sockets per user, event rate.
    pub guard: Arc<Guard>,
    /// The client address a session is counted for.
    pub client_address: ClientAddress,
}

/// How the address of a handshake's client is read (the peer by default; an
/// application behind a proxy reads its trusted header).
pub type ClientAddress =
    Arc<dyn Fn(&actix_web::HttpRequest) -> Option<std::net::IpAddr> + Send + Sync>;

impl Realtime {
    /// A Socket.IO server answered by `gate`.
    pub fn socket_io(hub: Hub, gate: Arc<dyn Gatekeeper>, config: EngineConfig) -> Self {
        Self {
            hub,
            layer: Layer::SocketIo(gate),
            config: Arc::new(config),
            polls: crate::polling::PollRegistry::default(),
            guard: Guard::new(crate::limits::Limits::default()),
            client_address: Arc::new(|req| req.peer_addr().map(|addr| addr.ip())),
        }
    }

    /// The same server under `limits`, counting sessions per the address
    /// `client_address` reads.
    #[must_use]
    pub fn with_limits(
        mut self,
        limits: crate::limits::Limits,
        client_address: ClientAddress,
    ) -> Self {
        self.guard = Guard::new(limits);
        self.client_address = client_address;
        self
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

    fn awaiting_connect(&self) -> bool {
        matches!(self, Self::SocketIo(layer) if !layer.ever_connected())
    }

    fn credentials_expire(&self) -> Option<Instant> {
        match self {
            Self::SocketIo(layer) => layer.expires(),
            Self::Echo => None,
        }
    }

    fn close(&mut self) {
        if let Self::SocketIo(layer) = self {
            layer.close();
        }
    }
}

/// The state of one connection: the layer above, the heartbeat and the
/// deadlines. A transport drives it with the client's packets
/// ([`Connection::on_inbound`]) and its timers ([`Connection::timers`]).
pub(crate) struct Connection {
    sid: Uuid,
    outbox: Outbox,
    upper: Upper,
    config: Arc<EngineConfig>,
    opened: Instant,
    /// When the next ping is due.
    next_ping: Instant,
    pong_due: Option<Instant>,
    /// One timer for the next ping and the pong or connect deadline,
    /// whichever comes first; moved only when that instant changes (not
    /// re-armed for every frame the transport handles).
    timer: Pin<Box<tokio::time::Sleep>>,
    timer_at: Instant,
    /// Opened on long-polling (a poll may be waiting at the end).
    pollable: bool,
    /// Its place under the session caps, freed with the connection.
    _permit: SessionPermit,
}

impl Connection {
    /// Opens a connection whose packets go to `out`; the open packet is
    /// queued at once (the returned flow says whether it could be).
    pub(crate) fn open(
        sid: Uuid,
        out: queue::Sender<Frame>,
        realtime: &Realtime,
        upgrades: bool,
        permit: SessionPermit,
    ) -> (Self, Flow) {
        let config = Arc::clone(&realtime.config);
        let outbox = Outbox { out };
        let upper = match &realtime.layer {
            Layer::SocketIo(gate) => Upper::SocketIo(Box::new(SocketIo::new(
                sid,
                realtime.hub.clone(),
                gate.clone(),
                Arc::clone(&config),
                Arc::clone(&realtime.guard),
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
        let flow = outbox.packet(EnginePacket::Open(open.to_string()));
        let opened = Instant::now();
        let next_ping = opened + config.ping_interval;
        let timer_at = next_ping.min(opened + config.connect_timeout);
        let connection = Self {
            sid,
            outbox,
            upper,
            config,
            opened,
            next_ping,
            pong_due: None,
            timer: Box::pin(tokio::time::sleep_until(timer_at)),
            timer_at,
            pollable: upgrades,
            _permit: permit,
        };
        (connection, flow)
    }

    /// Where its frames go.
    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Handles what the transport got from the client (`None`: it is gone).
    pub(crate) async fn on_inbound(&mut self, packet: Option<Inbound>) -> Flow {
        match packet {
            Some(Inbound::Packet(EnginePacket::Pong(_))) => {
                self.pong_due = None;
                Flow::Continue
            }
            Some(Inbound::Packet(EnginePacket::Ping(data))) => {
                self.outbox.packet(EnginePacket::Pong(data))
            }
            Some(Inbound::Packet(EnginePacket::Close)) => Flow::ClientClosed,
            Some(Inbound::Packet(
                packet @ (EnginePacket::Message(_) | EnginePacket::Binary(_)),
            )) => {
                // Boxed: the handling of a message (a connect, an event
                // awaiting the application) is large and brief, and an idle
                // connection should not carry its room.
                Box::pin(self.upper.on_message(packet, &self.outbox)).await
            }
            Some(Inbound::Packet(_)) => Flow::Continue,
            Some(Inbound::Malformed) => {
                tracing::debug!(socket.sid = %self.sid, "malformed engine.io packet; closing");
                Flow::Stop
            }
            None => Flow::ClientClosed,
        }
    }

    /// Waits for the next thing the connection does by itself: a ping, a
    /// missed pong or connect, credentials that lapse, or the hub dropping
    /// a socket that could not keep up (or disconnecting it).
    pub(crate) async fn timers(&mut self) -> Flow {
        std::future::poll_fn(|cx| self.poll_timers(cx)).await
    }

    /// [`Connection::timers`] by hand: polled on every wake of a busy
    /// socket, so it builds no futures.
    pub(crate) fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<Flow> {
        if self.outbox.out.poll_evicted(cx).is_ready() {
            return Poll::Ready(Flow::Stop);
        }
        let far = self.opened + Duration::from_secs(86_400 * 365);
        let pong_deadline = self.pong_due.unwrap_or(far);
        let connect_deadline = if self.upper.awaiting_connect() {
            self.opened + self.config.connect_timeout
        } else {
            far
        };
        let deadline = pong_deadline.min(connect_deadline);
        let expiry = self.upper.credentials_expire().unwrap_or(far);
        let mut now = Instant::now();
        loop {
            if now >= expiry {
                tracing::debug!(socket.sid = %self.sid, "credentials lapsed; disconnecting");
                let _ = self.outbox.frame(crate::hub::disconnect_frame());
                return Poll::Ready(Flow::Stop);
            }
            if now >= self.next_ping {
                let due = self.next_ping;
                self.next_ping = due + self.config.ping_interval;
                if self.pong_due.is_none() {
                    // From when the ping was due, however late the timer ran.
                    self.pong_due = Some(due + self.config.ping_timeout);
                }
                return Poll::Ready(self.outbox.packet(EnginePacket::Ping(String::new())));
            }
            if now >= deadline {
                return Poll::Ready(Flow::Stop);
            }
            let wake = self.next_ping.min(deadline).min(expiry);
            if wake != self.timer_at {
                self.timer_at = wake;
                self.timer.as_mut().reset(wake);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // It fired: its instant has come, whatever the clock's grain.
            now = now.max(wake);
        }
    }

    /// Ends the connection after `flow`: the layer above closes, the sid
    /// lingers or goes, and a poll still waiting is answered (a noop when
    /// the client closed, a close when the server did).
    pub(crate) fn end(mut self, flow: Flow, realtime: &Realtime) {
        self.upper.close();
        if flow == Flow::ClientClosed {
            realtime.polls.linger(
                self.sid,
                self.config.ping_interval + self.config.ping_timeout,
            );
        } else {
            realtime.polls.remove(self.sid);
        }
        let last = match flow {
            // Only a poll waits for an answer; a WebSocket the client
            // closed is sent nothing more.
            Flow::ClientClosed if self.pollable => Some(EnginePacket::Noop),
            Flow::ClientClosed => None,
            _ => Some(EnginePacket::Close),
        };
        if let Some(last) = last {
            let _ = self.outbox.packet(last);
        }
        tracing::debug!(socket.sid = %self.sid, "socket closed");
    }
}

/// Runs a connection until either side ends it: `inbound` carries the
/// client's packets, `out` takes the server's (its own task, for
/// long-polling connections and those that may upgrade).
pub async fn run(
    sid: Uuid,
    mut inbound: queue::Receiver<Inbound>,
    out: queue::Sender<Frame>,
    realtime: Realtime,
    upgrades: bool,
    permit: SessionPermit,
) {
    let (mut connection, mut flow) = Connection::open(sid, out, &realtime, upgrades, permit);
    while flow == Flow::Continue {
        flow = tokio::select! {
            packet = inbound.recv() => connection.on_inbound(packet).await,
            flow = connection.timers() => flow,
        };
    }
    connection.end(flow, &realtime);
}
