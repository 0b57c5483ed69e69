//! The hub: one task per instance owns every socket's queue and the room
//! memberships, and serves commands over a channel (no shared locks).
//! Each socket has a bounded queue; a socket that cannot keep up is dropped
//! from the hub (its queue closes, its session ends), never slowing others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytestring::ByteString;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::socket::SocketPacket;

/// Identifies a socket on this instance.
pub type SocketId = Uuid;

/// An event for a socket, with its sequence number. The stamped payload
/// and its encoded Socket.IO packet are shared by every recipient when the
/// event has an outbox sequence (the same `_seq` for all), so a room of
/// 10 000 sockets costs one serialisation, not 10 000.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The event name (`order_cancelled`…).
    pub name: Arc<str>,
    /// The payload, with `eventId`, `serverTimeMs` and `_seq` added.
    pub data: Arc<Value>,
    /// The Engine.IO message of it (`42["name",{…}]`), ready for any transport.
    pub frame: ByteString,
}

impl Outgoing {
    /// `delivery` stamped with `seq`, encoded once.
    fn stamped(delivery: &Delivery, seq: u64) -> Self {
        let mut data = delivery.data.clone();
        if let Value::Object(map) = &mut data {
            map.insert("eventId".to_owned(), json!(delivery.event_id));
            map.insert("serverTimeMs".to_owned(), json!(delivery.server_time_ms));
            map.insert("_seq".to_owned(), json!(seq));
        }
        let frame = format!(
            "4{}",
            SocketPacket::event(&delivery.name, data.clone()).encode()
        );
        Self {
            name: Arc::from(delivery.name.as_str()),
            data: Arc::new(data),
            frame: ByteString::from(frame),
        }
    }
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
        queue: mpsc::Sender<Outgoing>,
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
    queue: mpsc::Sender<Outgoing>,
    rooms: HashSet<String>,
    seq: u64,
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

    /// Registers a socket in `rooms`; returns its queue of events.
    pub fn register(&self, id: SocketId, rooms: Vec<String>) -> mpsc::Receiver<Outgoing> {
        let (queue, receiver) = mpsc::channel(self.queue_size);
        self.send(Command::Register { id, rooms, queue });
        receiver
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

async fn run(mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut members: HashMap<SocketId, Member> = HashMap::new();
    let mut rooms: HashMap<String, HashSet<SocketId>> = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Register {
                id,
                rooms: joined,
                queue,
            } => {
                for room in &joined {
                    rooms.entry(room.clone()).or_default().insert(id);
                }
                let member = Member {
                    queue,
                    rooms: joined.into_iter().collect(),
                    seq: 0,
                };
                members.insert(id, member);
            }
            Command::Join { id, room } => {
                if let Some(member) = members.get_mut(&id) {
                    member.rooms.insert(room.clone());
                    rooms.entry(room).or_default().insert(id);
                }
            }
            Command::Leave { id, room } => {
                if let Some(member) = members.get_mut(&id) {
                    member.rooms.remove(&room);
                }
                remove_from_room(&mut rooms, &room, id);
            }
            Command::Unregister { id } => drop_member(&mut members, &mut rooms, id),
            Command::Deliver(delivery) => {
                let ids: HashSet<SocketId> = delivery
                    .rooms
                    .iter()
                    .filter_map(|room| rooms.get(room))
                    .flatten()
                    .copied()
                    .collect();
                let mut too_slow = Vec::new();
                // The outbox id when the event has one: the sequence
                // `auth.lastSeq` resumes from after a reconnect, the same for
                // everyone; otherwise each socket's own count.
                let shared = delivery
                    .event_id
                    .parse::<u64>()
                    .ok()
                    .map(|seq| Outgoing::stamped(&delivery, seq));
                for id in &ids {
                    let Some(member) = members.get_mut(id) else {
                        continue;
                    };
                    member.seq += 1;
                    let outgoing = match &shared {
                        Some(outgoing) => outgoing.clone(),
                        None => Outgoing::stamped(&delivery, member.seq),
                    };
                    if member.queue.try_send(outgoing).is_err() {
                        too_slow.push(*id);
                    }
                }
                for id in too_slow {
                    tracing::warn!(socket.id = %id, "socket could not keep up; disconnecting it");
                    drop_member(&mut members, &mut rooms, id);
                }
            }
            Command::Count { reply } => {
                let _ = reply.send(members.len());
            }
        }
    }
}

fn remove_from_room(rooms: &mut HashMap<String, HashSet<SocketId>>, room: &str, id: SocketId) {
    if let Some(ids) = rooms.get_mut(room) {
        ids.remove(&id);
        if ids.is_empty() {
            rooms.remove(room);
        }
    }
}

fn drop_member(
    members: &mut HashMap<SocketId, Member>,
    rooms: &mut HashMap<String, HashSet<SocketId>>,
    id: SocketId,
) {
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

    #[tokio::test]
    async fn room_members_get_stamped_events_with_their_own_sequence() {
        let hub = Hub::spawn(8);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut qa = hub.register(a, vec!["customer:1".to_owned()]);
        let mut qb = hub.register(b, vec!["order:9".to_owned()]);
        hub.join(b, "customer:1".to_owned());
        hub.deliver(delivery("order:9", 1));
        hub.deliver(delivery("customer:1", 2));
        let first_b = qb.recv().await.unwrap();
        assert_eq!(first_b.data["_seq"], 1);
        let second_b = qb.recv().await.unwrap();
        assert_eq!(
            (second_b.data["_seq"].clone(), second_b.data["n"].clone()),
            (json!(2), json!(2))
        );
        let only_a = qa.recv().await.unwrap();
        assert_eq!(only_a.data["_seq"], 1, "a's own sequence");
        assert_eq!(only_a.data["eventId"], "e2");
        assert_eq!(only_a.data["serverTimeMs"], 1002);
        hub.leave(b, "customer:1".to_owned());
        hub.deliver(delivery("customer:1", 3));
        assert_eq!(qa.recv().await.unwrap().data["n"], 3);
        assert_eq!(hub.sockets().await, 2);
        assert!(qb.try_recv().is_err(), "b left the room");
    }

    #[tokio::test]
    async fn a_socket_in_several_of_the_rooms_receives_the_event_once() {
        let hub = Hub::spawn(8);
        let id = Uuid::new_v4();
        let mut queue = hub.register(id, vec!["customer:1".to_owned(), "order:9".to_owned()]);
        let mut both = delivery("customer:1", 1);
        both.rooms.push("order:9".to_owned());
        hub.deliver(both);
        hub.deliver(delivery("order:9", 2));
        assert_eq!(queue.recv().await.unwrap().data["n"], 1);
        assert_eq!(
            queue.recv().await.unwrap().data["n"],
            2,
            "the first was not delivered twice"
        );
    }

    #[tokio::test]
    async fn a_socket_that_cannot_keep_up_is_dropped_and_others_are_not_slowed() {
        let hub = Hub::spawn(2);
        let (slow, fast) = (Uuid::new_v4(), Uuid::new_v4());
        let mut slow_queue = hub.register(slow, vec!["r".to_owned()]);
        let mut fast_queue = hub.register(fast, vec!["r".to_owned()]);
        for n in 0..3 {
            hub.deliver(delivery("r", n));
            assert_eq!(fast_queue.recv().await.unwrap().data["n"], n);
        }
        assert_eq!(hub.sockets().await, 1, "the slow socket was dropped");
        assert!(slow_queue.recv().await.is_some());
        assert!(slow_queue.recv().await.is_some());
        assert!(slow_queue.recv().await.is_none(), "its queue closed");
    }
}
