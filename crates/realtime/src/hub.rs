//! The hub: one task per instance owns the room memberships and a sender on
//! every socket's transport queue, and serves commands over a channel (no
//! shared locks). An event goes from the hub straight into the queue the
//! WebSocket (or the next poll) drains, encoded once for all its sockets. A
//! socket whose bounded queue is full cannot keep up: the hub drops it and
//! its session ends, never slowing others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytestring::ByteString;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::engine::Frame;
use crate::queue;
use crate::socket::SocketPacket;

/// Identifies a socket on this instance.
pub type SocketId = Uuid;

/// `delivery` stamped with `seq` (`eventId`, `serverTimeMs`, `_seq`) as the
/// Engine.IO message of a Socket.IO EVENT (`42["name",{…}]`). When the event
/// has an outbox sequence (the same `_seq` for all) it is encoded once and
/// shared, so a room of 10 000 sockets costs one serialisation.
fn stamped(delivery: &Delivery, seq: u64) -> Frame {
    let mut data = delivery.data.clone();
    if let Value::Object(map) = &mut data {
        map.insert("eventId".to_owned(), json!(delivery.event_id));
        map.insert("serverTimeMs".to_owned(), json!(delivery.server_time_ms));
        map.insert("_seq".to_owned(), json!(seq));
    }
    let packet = SocketPacket::event(&delivery.name, data).encode();
    Frame::Text(ByteString::from(format!("4{packet}")))
}

/// An event to deliver to the members of some rooms; a socket in several
/// of them receives it once.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Rooms (`customer:{id}`, `order:{id}`…).
    pub rooms: Vec<String>,
    /// Event name.
    pub name: String,
    /// Payload (an object; the stamps are added to it).
    pub data: Value,
    /// Stable id of the event (the outbox id), the same for every recipient.
    pub event_id: String,
    /// When the server sent it.
    pub server_time_ms: i64,
}

enum Command {
    Register {
        id: SocketId,
        rooms: Vec<String>,
        queue: queue::Sender<Frame>,
        evicted: oneshot::Sender<()>,
    },
    Join {
        id: SocketId,
        room: String,
    },
    Leave {
        id: SocketId,
        room: String,
    },
    Unregister {
        id: SocketId,
    },
    Deliver(Delivery),
    Count {
        reply: tokio::sync::oneshot::Sender<usize>,
    },
}

struct Member {
    queue: queue::Sender<Frame>,
    rooms: Vec<Arc<str>>,
    seq: u64,
    /// Dropped with the member: the session learns it was dropped.
    _evicted: oneshot::Sender<()>,
}

/// A handle on this instance's hub. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Hub {
    commands: mpsc::UnboundedSender<Command>,
    queue_size: usize,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl Hub {
    /// Starts the hub task; each socket may have `queue_size` events waiting.
    pub fn spawn(queue_size: usize) -> Self {
        let (commands, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(receiver));
        Self {
            commands,
            queue_size: queue_size.max(1),
        }
    }

    /// How many packets a socket may have waiting before it is dropped.
    pub fn queue_size(&self) -> usize {
        self.queue_size
    }

    /// Registers a socket in `rooms`; its events go into `queue` (the
    /// transport's). The answer resolves when the hub drops the socket.
    pub fn register(
        &self,
        id: SocketId,
        rooms: Vec<String>,
        queue: queue::Sender<Frame>,
    ) -> oneshot::Receiver<()> {
        let (evicted, dropped) = oneshot::channel();
        self.send(Command::Register {
            id,
            rooms,
            queue,
            evicted,
        });
        dropped
    }

    /// Adds a socket to a room.
    pub fn join(&self, id: SocketId, room: String) {
        self.send(Command::Join { id, room });
    }

    /// Removes a socket from a room.
    pub fn leave(&self, id: SocketId, room: String) {
        self.send(Command::Leave { id, room });
    }

    /// Forgets a socket (it disconnected).
    pub fn unregister(&self, id: SocketId) {
        self.send(Command::Unregister { id });
    }

    /// Delivers an event to the room's local members.
    pub fn deliver(&self, delivery: Delivery) {
        self.send(Command::Deliver(delivery));
    }

    /// How many sockets are registered.
    pub async fn sockets(&self) -> usize {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(Command::Count { reply });
        answer.await.unwrap_or(0)
    }

    fn send(&self, command: Command) {
        if self.commands.send(command).is_err() {
            tracing::error!("the realtime hub has stopped");
        }
    }
}

/// Room name → its members here. A name is stored once and shared by the
/// members' own lists.
type Rooms = HashMap<Arc<str>, HashSet<SocketId>>;

async fn run(mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut members: HashMap<SocketId, Member> = HashMap::new();
    let mut rooms: Rooms = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Register {
                id,
                rooms: joined,
                queue,
                evicted,
            } => {
                let mut member = Member {
                    queue,
                    rooms: Vec::with_capacity(joined.len()),
                    seq: 0,
                    _evicted: evicted,
                };
                for room in &joined {
                    member.enter(&mut rooms, room, id);
                }
                members.insert(id, member);
            }
            Command::Join { id, room } => {
                if let Some(member) = members.get_mut(&id) {
                    member.enter(&mut rooms, &room, id);
                }
            }
            Command::Leave { id, room } => {
                if let Some(member) = members.get_mut(&id) {
                    member.rooms.retain(|joined| **joined != *room);
                }
                remove_from_room(&mut rooms, &room, id);
            }
            Command::Unregister { id } => drop_member(&mut members, &mut rooms, id),
            Command::Deliver(delivery) => deliver(&mut members, &mut rooms, &delivery),
            Command::Count { reply } => {
                let _ = reply.send(members.len());
            }
        }
    }
}

impl Member {
    /// Joins `room` (once).
    fn enter(&mut self, rooms: &mut Rooms, room: &str, id: SocketId) {
        if self.rooms.iter().any(|joined| **joined == *room) {
            return;
        }
        let name = match rooms.get_key_value(room) {
            Some((name, _)) => name.clone(),
            None => Arc::from(room),
        };
        rooms.entry(name.clone()).or_default().insert(id);
        self.rooms.push(name);
    }
}

/// The prefix of a socket's own room.
const OWN_ROOM_PREFIX: &str = "socket:";

/// The socket a `socket:{sid}` room names (every socket is in the room of
/// its own id, as in Socket.IO). Resolved from the members, not kept as a
/// room: a room of one per socket would cost each socket a few hundred
/// bytes.
fn own_room(members: &HashMap<SocketId, Member>, room: &str) -> Option<SocketId> {
    let id = room.strip_prefix(OWN_ROOM_PREFIX)?.parse().ok()?;
    members.contains_key(&id).then_some(id)
}

fn deliver(members: &mut HashMap<SocketId, Member>, rooms: &mut Rooms, delivery: &Delivery) {
    let members_of = |room: &String| -> Vec<SocketId> {
        match own_room(members, room) {
            Some(id) => vec![id],
            None => rooms
                .get(room.as_str())
                .map(|ids| ids.iter().copied().collect())
                .unwrap_or_default(),
        }
    };
    let ids: Vec<SocketId> = match delivery.rooms.as_slice() {
        [room] => members_of(room),
        several => several
            .iter()
            .flat_map(members_of)
            .collect::<HashSet<SocketId>>()
            .into_iter()
            .collect(),
    };
    if ids.is_empty() {
        return;
    }
    let mut too_slow = Vec::new();
    // The outbox id when the event has one: the sequence `auth.lastSeq`
    // resumes from after a reconnect, the same for everyone; otherwise each
    // socket's own count.
    let shared = delivery
        .event_id
        .parse::<u64>()
        .ok()
        .map(|seq| stamped(delivery, seq));
    for id in ids {
        let Some(member) = members.get_mut(&id) else {
            continue;
        };
        member.seq += 1;
        let frame = match &shared {
            Some(frame) => frame.clone(),
            None => stamped(delivery, member.seq),
        };
        if member.queue.try_send(frame).is_err() {
            too_slow.push(id);
        }
    }
    for id in too_slow {
        tracing::warn!(socket.id = %id, "socket could not keep up; disconnecting it");
        drop_member(members, rooms, id);
    }
}

fn remove_from_room(rooms: &mut Rooms, room: &str, id: SocketId) {
    if let Some(ids) = rooms.get_mut(room) {
        ids.remove(&id);
        if ids.is_empty() {
            rooms.remove(room);
        }
    }
}

fn drop_member(members: &mut HashMap<SocketId, Member>, rooms: &mut Rooms, id: SocketId) {
    if let Some(member) = members.remove(&id) {
        for room in &member.rooms {
            remove_from_room(rooms, room, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(room: &str, n: i64) -> Delivery {
        Delivery {
            rooms: vec![room.to_owned()],
            name: "order_cancelled".to_owned(),
            data: json!({ "n": n }),
            event_id: format!("e{n}"),
            server_time_ms: 1_000 + n,
        }
    }

    /// A socket's queue, as a transport would make it.
    struct Socket {
        queue: queue::Receiver<Frame>,
        evicted: oneshot::Receiver<()>,
    }

    impl Socket {
        fn join(hub: &Hub, rooms: &[&str]) -> (SocketId, Self) {
            let id = Uuid::new_v4();
            let (sender, queue) = queue::channel(hub.queue_size());
            let rooms = rooms.iter().map(|room| (*room).to_owned()).collect();
            let evicted = hub.register(id, rooms, sender);
            (id, Self { queue, evicted })
        }

        /// The payload of the next event.
        async fn data(&mut self) -> Value {
            let Some(Frame::Text(text)) = self.queue.recv().await else {
                panic!("no text frame");
            };
            let packet: Value = serde_json::from_str(text.strip_prefix("42").unwrap()).unwrap();
            assert_eq!(packet[0], "order_cancelled");
            packet[1].clone()
        }
    }

    #[tokio::test]
    async fn room_members_get_stamped_events_with_their_own_sequence() {
        let hub = Hub::spawn(8);
        let (_, mut a) = Socket::join(&hub, &["customer:1"]);
        let (b_id, mut b) = Socket::join(&hub, &["order:9"]);
        hub.join(b_id, "customer:1".to_owned());
        hub.deliver(delivery("order:9", 1));
        hub.deliver(delivery("customer:1", 2));
        assert_eq!(b.data().await["_seq"], 1);
        let second_b = b.data().await;
        assert_eq!(
            (second_b["_seq"].clone(), second_b["n"].clone()),
            (json!(2), json!(2))
        );
        let only_a = a.data().await;
        assert_eq!(only_a["_seq"], 1, "a's own sequence");
        assert_eq!(only_a["eventId"], "e2");
        assert_eq!(only_a["serverTimeMs"], 1002);
        hub.leave(b_id, "customer:1".to_owned());
        hub.deliver(delivery("customer:1", 3));
        assert_eq!(a.data().await["n"], 3);
        assert_eq!(hub.sockets().await, 2);
        assert!(b.queue.try_recv().is_none(), "b left the room");
    }

    #[tokio::test]
    async fn a_socket_hears_its_own_room_once_and_no_other_does() {
        let hub = Hub::spawn(8);
        let (a_id, mut a) = Socket::join(&hub, &["customer:1"]);
        let (_, mut b) = Socket::join(&hub, &["customer:1"]);
        hub.deliver(delivery(&format!("socket:{a_id}"), 1));
        let mut both = delivery(&format!("socket:{a_id}"), 2);
        both.rooms.push("customer:1".to_owned());
        hub.deliver(both);
        hub.deliver(delivery(&format!("socket:{}", Uuid::new_v4()), 3));
        hub.deliver(delivery("socket:not-an-id", 4));
        assert_eq!(a.data().await["n"], 1);
        assert_eq!(a.data().await["n"], 2, "once, though in two rooms");
        assert_eq!(b.data().await["n"], 2);
        hub.unregister(a_id);
        hub.deliver(delivery(&format!("socket:{a_id}"), 5));
        assert_eq!(hub.sockets().await, 1);
        assert!(a.queue.try_recv().is_none(), "nothing after it left");
        assert!(b.queue.try_recv().is_none(), "b never hears a's room");
    }

    #[tokio::test]
    async fn an_outbox_event_is_encoded_once_with_its_sequence_for_everyone() {
        let hub = Hub::spawn(8);
        let (_, mut a) = Socket::join(&hub, &["order:9"]);
        let (_, mut b) = Socket::join(&hub, &["order:9"]);
        let mut event = delivery("order:9", 1);
        event.event_id = "4711".to_owned();
        hub.deliver(event);
        let (Some(Frame::Text(first)), Some(Frame::Text(second))) =
            (a.queue.recv().await, b.queue.recv().await)
        else {
            panic!("no frames");
        };
        assert_eq!(first, second);
        assert_eq!(
            first.as_ptr(),
            second.as_ptr(),
            "one buffer shared, not a copy per socket"
        );
        assert!(first.contains("\"_seq\":4711"), "{first}");
    }

    #[tokio::test]
    async fn a_socket_in_several_of_the_rooms_receives_the_event_once() {
        let hub = Hub::spawn(8);
        let (_, mut socket) = Socket::join(&hub, &["customer:1", "order:9"]);
        let mut both = delivery("customer:1", 1);
        both.rooms.push("order:9".to_owned());
        hub.deliver(both);
        hub.deliver(delivery("order:9", 2));
        assert_eq!(socket.data().await["n"], 1);
        assert_eq!(
            socket.data().await["n"],
            2,
            "the first was not delivered twice"
        );
    }

    #[tokio::test]
    async fn a_socket_that_cannot_keep_up_is_dropped_and_others_are_not_slowed() {
        let hub = Hub::spawn(2);
        let (_, mut slow) = Socket::join(&hub, &["r"]);
        let (_, mut fast) = Socket::join(&hub, &["r"]);
        for n in 0..3 {
            hub.deliver(delivery("r", n));
            assert_eq!(fast.data().await["n"], n);
        }
        assert_eq!(hub.sockets().await, 1, "the slow socket was dropped");
        assert!(slow.evicted.await.is_err(), "its session is told");
        assert!(slow.queue.recv().await.is_some());
        assert!(slow.queue.recv().await.is_some());
        assert!(slow.queue.recv().await.is_none(), "nothing more comes");
    }
}
