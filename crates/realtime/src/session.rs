//! One Socket.IO connection, whatever its transport: the Engine.IO
//! handshake, the server's pings, the namespace CONNECT with the `auth`
//! payload, and events both ways. The connection is a task and a `select!`
//! over the client's packets (an inbound channel the transports feed), the
//! hub's queue for this socket and the heartbeat tick; what it sends goes
//! to an outbound channel the current transport drains (WebSocket frames, or
//! long-polling answers until the client upgrades).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

use crate::engine::EnginePacket;
use crate::gate::{Gatekeeper, Identity};
use crate::hub::{Hub, Outgoing};
use crate::socket::{PacketKind, SocketPacket};

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
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            connect_timeout: Duration::from_millis(45_000),
        }
    }
}

/// What a session needs.
#[derive(Clone)]
pub struct Realtime {
    /// This instance's hub.
    pub hub: Hub,
    /// The application's answers.
    pub gate: Arc<dyn Gatekeeper>,
    /// Timings.
    pub config: EngineConfig,
    /// Connections reachable by sid (long-polling and upgrades).
    pub polls: crate::polling::PollRegistry,
}

/// What a transport hands the connection.
#[derive(Debug)]
pub enum Inbound {
    /// A text Engine.IO packet.
    Text(String),
    /// A binary frame (refused).
    Binary,
}

/// Packets the connection may have waiting for a transport before it is
/// closed as unreachable.
pub const OUTBOUND_QUEUE: usize = 512;

enum Flow {
    Continue,
    Stop,
}

struct Connection {
    sid: Uuid,
    out: mpsc::Sender<String>,
    realtime: Realtime,
    identity: Option<Identity>,
    events: Option<mpsc::Receiver<Outgoing>>,
}

impl Connection {
    async fn send_engine(&mut self, packet: EnginePacket) -> Flow {
        match self.out.try_send(packet.encode()) {
            Ok(()) => Flow::Continue,
            // Nobody drains it (a poller that left) or it is gone: end.
            Err(_) => Flow::Stop,
        }
    }

    async fn send_socket(&mut self, packet: SocketPacket) -> Flow {
        self.send_engine(EnginePacket::Message(packet.encode()))
            .await
    }

    async fn emit(&mut self, name: &str, data: Value) -> Flow {
        self.send_socket(SocketPacket::event(name, data)).await
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        match EnginePacket::decode(text) {
            Ok(EnginePacket::Message(body)) => self.on_socket_packet(&body).await,
            Ok(EnginePacket::Close) => Flow::Stop,
            Ok(EnginePacket::Ping(data)) => self.send_engine(EnginePacket::Pong(data)).await,
            Ok(_) => Flow::Continue,
            Err(_) => {
                tracing::debug!(socket.sid = %self.sid, "malformed engine.io packet; closing");
                Flow::Stop
            }
        }
    }

    async fn on_socket_packet(&mut self, body: &str) -> Flow {
        let packet = match SocketPacket::decode(body) {
            Ok(packet) => packet,
            Err(error) => {
                tracing::debug!(socket.sid = %self.sid, error = %error, "malformed socket.io packet; closing");
                return Flow::Stop;
            }
        };
        match packet.kind {
            PacketKind::Connect => self.on_connect(packet).await,
            PacketKind::Disconnect => Flow::Stop,
            PacketKind::Event => self.on_event(packet).await,
            PacketKind::BinaryEvent | PacketKind::BinaryAck => {
                // Binary attachments are not supported: refuse cleanly.
                self.emit(
                    "error",
                    json!({ "message": "binary packets are not supported" }),
                )
                .await
            }
            PacketKind::Ack | PacketKind::ConnectError => Flow::Continue,
        }
    }

    async fn on_connect(&mut self, packet: SocketPacket) -> Flow {
        let refuse = |message: &str| SocketPacket {
            kind: PacketKind::ConnectError,
            namespace: packet.namespace.clone(),
            ack_id: None,
            data: Some(json!({ "message": message })),
        };
        if packet.namespace != "/" {
            return self.send_socket(refuse("Invalid namespace")).await;
        }
        let auth = packet.data.clone().unwrap_or(Value::Null);
        let gate = self.realtime.gate.clone();
        let identity = match gate.connect(&auth).await {
            Ok(identity) => identity,
            Err(message) => return self.send_socket(refuse(&message)).await,
        };
        let mut rooms = identity.rooms.clone();
        rooms.push(format!("socket:{}", self.sid));
        self.events = Some(self.realtime.hub.register(self.sid, rooms));
        let connected = SocketPacket {
            kind: PacketKind::Connect,
            namespace: "/".to_owned(),
            ack_id: None,
            data: Some(json!({ "sid": self.sid })),
        };
        let welcome = json!({
            "socketId": self.sid,
            "userId": identity.user_id,
            "role": identity.role,
            "rooms": identity.rooms,
        });
        tracing::debug!(socket.sid = %self.sid, user.id = %identity.user_id, "socket connected");
        self.identity = Some(identity);
        if let Flow::Stop = self.send_socket(connected).await {
            return Flow::Stop;
        }
        let backlog = self
            .identity
            .as_mut()
            .map(|who| std::mem::take(&mut who.backlog))
            .unwrap_or_default();
        if let Flow::Stop = self.emit("connected", welcome).await {
            return Flow::Stop;
        }
        for (name, data) in backlog {
            if let Flow::Stop = self.emit(&name, data).await {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    async fn on_event(&mut self, packet: SocketPacket) -> Flow {
        let Some(identity) = self.identity.clone() else {
            return Flow::Continue;
        };
        let Some((name, data)) = packet.event_parts() else {
            return Flow::Continue;
        };
        let answer = match name {
            "ping" => Some(("pong", json!({ "ok": true }))),
            "join_booking" | "leave_booking" => {
                let order_id = data
                    .as_str()
                    .or_else(|| data.get("orderId").and_then(Value::as_str))
                    .unwrap_or("");
                let joining = name == "join_booking";
                let allowed = !order_id.is_empty()
                    && (!joining || self.realtime.gate.may_join_order(&identity, order_id).await);
                if !allowed {
                    Some((
                        "error",
                        json!({ "message": "you cannot join this booking", "orderId": order_id }),
                    ))
                } else if joining {
                    self.realtime
                        .hub
                        .join(self.sid, format!("order:{order_id}"));
                    Some(("booking_joined", json!({ "orderId": order_id })))
                } else {
                    self.realtime
                        .hub
                        .leave(self.sid, format!("order:{order_id}"));
                    None
                }
            }
            _ => {
                let gate = self.realtime.gate.clone();
                gate.on_event(&identity, name, data).await;
                None
            }
        };
        if let Some(ack_id) = packet.ack_id {
            let ack = SocketPacket {
                kind: PacketKind::Ack,
                namespace: packet.namespace.clone(),
                ack_id: Some(ack_id),
                data: Some(json!([{ "ok": true }])),
            };
            if let Flow::Stop = self.send_socket(ack).await {
                return Flow::Stop;
            }
        }
        match answer {
            Some((event, data)) => self.emit(event, data).await,
            None => Flow::Continue,
        }
    }
}

async fn next_event(events: &mut Option<mpsc::Receiver<Outgoing>>) -> Option<Option<Outgoing>> {
    match events {
        Some(queue) => Some(queue.recv().await),
        None => std::future::pending().await,
    }
}

/// Runs a connection until either side ends it: `inbound` carries the
/// client's packets, `out` takes the server's.
pub async fn run(
    sid: Uuid,
    mut inbound: mpsc::Receiver<Inbound>,
    out: mpsc::Sender<String>,
    realtime: Realtime,
    upgrades: bool,
) {
    let config = realtime.config;
    let mut connection = Connection {
        sid,
        out,
        realtime,
        identity: None,
        events: None,
    };
    let open = json!({
        "sid": sid,
        "upgrades": if upgrades { json!(["websocket"]) } else { json!([]) },
        "pingInterval": config.ping_interval.as_millis(),
        "pingTimeout": config.ping_timeout.as_millis(),
        "maxPayload": config.max_payload,
    });
    if let Flow::Continue = connection
        .send_engine(EnginePacket::Open(open.to_string()))
        .await
    {
        let opened = Instant::now();
        let mut ping =
            tokio::time::interval_at(opened + config.ping_interval, config.ping_interval);
        let mut pong_due: Option<Instant> = None;
        loop {
            let deadline = pong_due.unwrap_or_else(|| opened + Duration::from_secs(86_400 * 365));
            let connect_deadline = opened + config.connect_timeout;
            let flow = tokio::select! {
                packet = inbound.recv() => match packet {
                    Some(Inbound::Text(text)) => {
                        if EnginePacket::decode(&text).is_ok_and(|p| matches!(p, EnginePacket::Pong(_))) {
                            pong_due = None;
                            Flow::Continue
                        } else {
                            connection.on_text(&text).await
                        }
                    }
                    Some(Inbound::Binary) => {
                        connection.emit("error", json!({ "message": "binary packets are not supported" })).await
                    }
                    None => Flow::Stop,
                },
                event = next_event(&mut connection.events) => match event {
                    Some(Some(outgoing)) => {
                        connection
                            .send_engine(EnginePacket::Message(outgoing.packet.to_string()))
                            .await
                    }
                    // The hub dropped this socket (it could not keep up).
                    _ => Flow::Stop,
                },
                _ = ping.tick() => {
                    if pong_due.is_none() {
                        pong_due = Some(Instant::now() + config.ping_timeout);
                    }
                    connection.send_engine(EnginePacket::Ping(String::new())).await
                }
                () = tokio::time::sleep_until(deadline) => Flow::Stop,
                () = tokio::time::sleep_until(connect_deadline), if connection.identity.is_none() => Flow::Stop,
            };
            if let Flow::Stop = flow {
                break;
            }
        }
    }
    connection.realtime.hub.unregister(sid);
    connection.realtime.polls.remove(sid);
    let _ = connection.out.try_send(EnginePacket::Close.encode());
    tracing::debug!(socket.sid = %sid, "socket closed");
}
