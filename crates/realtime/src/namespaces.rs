//! The Socket.IO v5 layer of one connection: namespace CONNECT (with its
//! payload, answered by the application or refused with CONNECT_ERROR),
//! DISCONNECT of one namespace, EVENT and ACK both ways, and binary packets
//! (BINARY_EVENT, BINARY_ACK) whose attachments arrive as the next binary
//! messages. The main namespace's socket is a member of the hub, so room
//! events reach it; any packet that is not Socket.IO ends the connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use actix_web::web::Bytes;
use bytestring::ByteString;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::engine::{EnginePacket, Frame};
use crate::gate::{Args, ClientEvent, Emit, Gatekeeper, Handshake, Identity};
use crate::hub::{Hub, Membership};
use crate::limits::{EventBudget, Guard, Verdict};
use crate::session::{EngineConfig, Flow, Outbox};
use crate::socket::{PacketKind, SocketPacket};

/// The main namespace.
const MAIN: &str = "/";

/// A binary packet waiting for its attachments.
struct Partial {
    packet: SocketPacket,
    attachments: Vec<Bytes>,
    bytes: usize,
}

/// A connected namespace and its owner.
struct Connected {
    namespace: String,
    identity: Identity,
}

/// One connection's namespaces.
pub(crate) struct SocketIo {
    engine_sid: Uuid,
    hub: Hub,
    gate: Arc<dyn Gatekeeper>,
    /// Connected namespaces and their owners.
    /// A list, not a map: a connection rarely holds more than one or two.
    connected: Vec<Connected>,
    /// The main namespace's socket in the hub (dropped: it leaves).
    membership: Option<Membership>,
    /// A binary packet waiting for its attachments (boxed: rare, and an
    /// idle connection should not carry its room).
    partial: Option<Box<Partial>>,
    ever_connected: bool,
    /// When the main namespace's credentials lapse (the socket is then
    /// disconnected).
    expires: Option<tokio::time::Instant>,
    config: Arc<EngineConfig>,
    /// Sockets per user and the event rate.
    guard: Arc<Guard>,
    /// This socket's event allowance.
    budget: EventBudget,
}

impl SocketIo {
    pub(crate) fn new(
        engine_sid: Uuid,
        hub: Hub,
        gate: Arc<dyn Gatekeeper>,
        config: Arc<EngineConfig>,
        guard: Arc<Guard>,
    ) -> Self {
        let budget = EventBudget::new(guard.limits().events_per_second);
        Self {
            engine_sid,
            hub,
            gate,
            connected: Vec::new(),
            membership: None,
            partial: None,
            ever_connected: false,
            expires: None,
            config,
            guard,
            budget,
        }
    }

    fn find(&self, namespace: &str) -> Option<&Connected> {
        self.connected
            .iter()
            .find(|connected| connected.namespace == namespace)
    }

    /// Leaves `namespace`; whether it was connected.
    fn leave(&mut self, namespace: &str) -> bool {
        let before = self.connected.len();
        self.connected
            .retain(|connected| connected.namespace != namespace);
        self.connected.len() < before
    }

    /// Whether a namespace was ever connected (the connect timeout).
    pub(crate) fn ever_connected(&self) -> bool {
        self.ever_connected
    }

    /// When the main namespace's credentials lapse, if they do.
    pub(crate) fn expires(&self) -> Option<tokio::time::Instant> {
        self.expires.filter(|_| self.membership.is_some())
    }

    /// Leaves the hub.
    pub(crate) fn close(&mut self) {
        if let Some(main) = self.find(MAIN) {
            let user = main.identity.user_id;
            self.guard.remove_socket(user, self.engine_sid);
            self.gate.disconnected(&main.identity);
        }
        if self.leave(MAIN) {
            self.membership = None;
        }
    }

    /// An Engine.IO message: a Socket.IO packet, or an attachment.
    pub(crate) async fn on_message(&mut self, packet: EnginePacket, out: &Outbox) -> Flow {
        match packet {
            EnginePacket::Message(text) => {
                if self.partial.is_some() {
                    tracing::debug!(socket.sid = %self.engine_sid, "text while attachments were due; closing");
                    return Flow::Stop;
                }
                match SocketPacket::decode(&text) {
                    Ok(packet) if packet.attachments > 0 => {
                        self.partial = Some(Box::new(Partial {
                            packet,
                            attachments: Vec::new(),
                            bytes: 0,
                        }));
                        Flow::Continue
                    }
                    Ok(packet) => self.on_packet(packet, Vec::new(), out).await,
                    Err(error) => {
                        tracing::debug!(socket.sid = %self.engine_sid, error = %error, "malformed socket.io packet; closing");
                        Flow::Stop
                    }
                }
            }
            EnginePacket::Binary(bytes) => {
                let Some(mut partial) = self.partial.take() else {
                    tracing::debug!(socket.sid = %self.engine_sid, "attachment without a binary packet; closing");
                    return Flow::Stop;
                };
                partial.bytes += bytes.len();
                if partial.bytes > self.config.max_payload {
                    return Flow::Stop;
                }
                partial.attachments.push(bytes);
                if partial.attachments.len() < partial.packet.attachments {
                    self.partial = Some(partial);
                    return Flow::Continue;
                }
                self.on_packet(partial.packet, partial.attachments, out)
                    .await
            }
            _ => Flow::Continue,
        }
    }

    async fn on_packet(
        &mut self,
        packet: SocketPacket,
        attachments: Vec<Bytes>,
        out: &Outbox,
    ) -> Flow {
        match packet.kind {
            PacketKind::Connect => self.on_connect(packet, out).await,
            PacketKind::Disconnect => {
                if packet.namespace == MAIN {
                    self.close();
                } else {
                    self.leave(&packet.namespace);
                }
                Flow::Continue
            }
            PacketKind::Event | PacketKind::BinaryEvent => {
                self.on_event(packet, attachments, out).await
            }
            // The server asks for no acks; a client's CONNECT_ERROR is not a thing.
            PacketKind::Ack | PacketKind::BinaryAck | PacketKind::ConnectError => Flow::Continue,
        }
    }

    async fn on_connect(&mut self, packet: SocketPacket, out: &Outbox) -> Flow {
        let namespace = packet.namespace;
        if self.find(&namespace).is_some() {
            return Flow::Continue;
        }
        let sid = if namespace == MAIN {
            self.engine_sid
        } else {
            Uuid::new_v4()
        };
        let auth = packet.data.unwrap_or_else(|| json!({}));
        let handshake = Handshake {
            namespace: &namespace,
            sid,
            auth: &auth,
        };
        let mut identity = match self.gate.connect(handshake).await {
            Ok(identity) => identity,
            Err(message) => {
                let refusal = SocketPacket::of(
                    PacketKind::ConnectError,
                    &namespace,
                    Some(json!({ "message": message })),
                );
                return send(out, &refusal, &[]);
            }
        };
        if namespace == MAIN {
            self.expires = identity
                .valid_for
                .map(|valid_for| tokio::time::Instant::now() + valid_for);
            // Its own room (`socket:{sid}`) the hub resolves by its id.
            let rooms = std::mem::take(&mut identity.rooms);
            self.membership = Some(self.hub.register(sid, rooms, out.sender()));
            self.guard.add_socket(identity.user_id, sid, out.sender());
        }
        tracing::debug!(socket.sid = %sid, socket.namespace = %namespace, user.id = %identity.user_id, "socket connected");
        self.ever_connected = true;
        // Rooms and greeting are spent here; the socket keeps only its owner.
        let greeting = std::mem::take(&mut identity.greeting);
        // Room for this one alone: a Vec's first push makes room for four
        // (512 bytes of `Connected`), and most connections hold one.
        self.connected.reserve_exact(1);
        self.connected.push(Connected {
            namespace: namespace.clone(),
            identity,
        });
        let answer = SocketPacket::of(PacketKind::Connect, &namespace, Some(json!({ "sid": sid })));
        let mut flow = send(out, &answer, &[]);
        if !greeting.is_empty() && !self.config.greeting_gap.is_zero() {
            tokio::time::sleep(self.config.greeting_gap).await;
        }
        for emit in greeting {
            if flow != Flow::Continue {
                break;
            }
            flow = emit_to(out, &namespace, emit);
        }
        flow
    }

    async fn on_event(
        &mut self,
        packet: SocketPacket,
        attachments: Vec<Bytes>,
        out: &Outbox,
    ) -> Flow {
        if self.find(&packet.namespace).is_none() {
            // Not connected to that namespace: ignored, as Socket.IO does.
            return Flow::Continue;
        }
        match self.budget.take(tokio::time::Instant::now()) {
            Verdict::Allow => {}
            Verdict::Drop => {
                self.guard
                    .refusals
                    .events_dropped
                    .fetch_add(1, Ordering::Relaxed);
                return Flow::Continue;
            }
            Verdict::Close => {
                self.guard
                    .refusals
                    .sockets_flooding
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(socket.sid = %self.engine_sid, "socket keeps exceeding its event rate; closing it");
                let _ = out.frame(crate::hub::disconnect_frame());
                return Flow::Stop;
            }
        }
        let Some(Connected { identity, .. }) = self.find(&packet.namespace) else {
            return Flow::Continue;
        };
        let Some(Value::Array(mut values)) = packet.data else {
            return Flow::Stop;
        };
        if values.is_empty() {
            return Flow::Stop;
        }
        let Value::String(name) = values.remove(0) else {
            return Flow::Stop;
        };
        let event = ClientEvent {
            namespace: packet.namespace.clone(),
            name,
            args: Args {
                values,
                attachments,
            },
            wants_ack: packet.ack_id.is_some(),
        };
        let reply = self.gate.on_event(identity, event).await;
        if let (MAIN, Some(membership)) = (packet.namespace.as_str(), &self.membership) {
            for room in reply.join {
                membership.join(room);
            }
            for room in reply.leave {
                membership.leave(room);
            }
        }
        let mut flow = Flow::Continue;
        if let (Some(ack_id), Some(args)) = (packet.ack_id, reply.ack) {
            let kind = if args.attachments.is_empty() {
                PacketKind::Ack
            } else {
                PacketKind::BinaryAck
            };
            let mut ack =
                SocketPacket::of(kind, &packet.namespace, Some(Value::Array(args.values)));
            ack.ack_id = Some(ack_id);
            ack.attachments = args.attachments.len();
            flow = send(out, &ack, &args.attachments);
        }
        for emit in reply.emits {
            if flow != Flow::Continue {
                break;
            }
            flow = emit_to(out, &packet.namespace, emit);
        }
        flow
    }
}

/// Sends an event on `namespace` (binary when it has attachments).
fn emit_to(out: &Outbox, namespace: &str, emit: Emit) -> Flow {
    let mut values = Vec::with_capacity(emit.args.values.len() + 1);
    values.push(Value::String(emit.name));
    values.extend(emit.args.values);
    let kind = if emit.args.attachments.is_empty() {
        PacketKind::Event
    } else {
        PacketKind::BinaryEvent
    };
    let mut packet = SocketPacket::of(kind, namespace, Some(Value::Array(values)));
    packet.attachments = emit.args.attachments.len();
    send(out, &packet, &emit.args.attachments)
}

/// Sends a packet and then its attachments as binary messages.
fn send(out: &Outbox, packet: &SocketPacket, attachments: &[Bytes]) -> Flow {
    let text = ByteString::from(format!("4{}", packet.encode()));
    let mut flow = out.frame(Frame::Text(text));
    for attachment in attachments {
        if flow != Flow::Continue {
            break;
        }
        flow = out.frame(Frame::Binary(attachment.clone()));
    }
    flow
}
