//! The hub: the room memberships of this instance's sockets, and a sender on
//! every socket's transport queue. It is sharded by thread: the sockets of
//! one server worker thread belong to one task on that thread (its shard),
//! which serves commands over a channel (no shared locks). An event is
//! encoded once and handed to every shard once; each shard puts it straight
//! into its members' queues, so waking a socket's writer is a wake on its own
//! thread. (One task for the whole instance made every socket of every event
//! a cross-thread wake-up, each an eventfd write: at 10 000 sockets, a fifth
//! of the server's time for one event.) A socket whose bounded queue is full
//! cannot keep up: its shard drops it and its session ends, never slowing
//! others.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::thread::ThreadId;

use bytestring::ByteString;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::engine::Frame;
use crate::queue;
use crate::socket::SocketPacket;

/// Identifies a socket on this instance.
pub type SocketId = Uuid;

/// The name of a [`Delivery`] that disconnects the members of its rooms
/// instead of reaching them (a logout, a lapsed session): sent like any
/// event, so it crosses instances on the same path. A client cannot send it:
/// deliveries come from the server alone.
pub const DISCONNECT: &str = "$disconnect";

/// What a disconnected socket is told before its session ends: Socket.IO's
/// DISCONNECT of the main namespace, which a client does not reconnect
/// after by itself ("io server disconnect").
pub fn disconnect_frame() -> Frame {
    Frame::Text(ByteString::from_static("41"))
}

/// `delivery` stamped with `seq` (`eventId`, `serverTimeMs`, `_seq`) as the
/// Engine.IO message of a Socket.IO EVENT (`42["name",{…}]`).
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
    /// Stable id of the event, the same for every recipient: for a kept
    /// event its delivery sequence (a number, which becomes `_seq`).
    pub event_id: String,
    /// When the server sent it.
    pub server_time_ms: i64,
}

/// A delivery as the shards get it.
struct Prepared {
    delivery: Delivery,
    /// When the event has an outbox sequence (the `_seq` that `auth.lastSeq`
    /// resumes from, the same for everyone), its frame: encoded by the first
    /// shard with a member in its rooms, then shared by all its sockets on
    /// every shard. Without one, each socket is stamped with its own count.
    shared: OnceLock<Option<Frame>>,
}

impl Prepared {
    fn shared_frame(&self) -> Option<&Frame> {
        self.shared
            .get_or_init(|| {
                let seq = self.delivery.event_id.parse::<u64>().ok()?;
                Some(stamped(&self.delivery, seq))
            })
            .as_ref()
    }
}

enum Command {
    Register {
        id: SocketId,
        rooms: Vec<String>,
        queue: queue::Sender<Frame>,
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
    Deliver(Arc<Prepared>),
    Disconnect(Arc<Vec<String>>),
    Count {
        reply: oneshot::Sender<usize>,
    },
}

struct Member {
    queue: queue::Sender<Frame>,
    rooms: Vec<Arc<str>>,
    seq: u64,
}

/// A shard: the task owning the sockets of one thread.
#[derive(Clone)]
struct Shard {
    thread: ThreadId,
    commands: mpsc::UnboundedSender<Command>,
}

/// What every handle on a hub shares.
struct Shards {
    queue_size: usize,
    list: RwLock<Vec<Shard>>,
}

/// A handle on this instance's hub. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    shards: Arc<Shards>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("queue_size", &self.shards.queue_size)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub whose sockets may each have `queue_size` events waiting. Its
    /// shards start with the first socket of each thread (inside a Tokio
    /// runtime).
    pub fn new(queue_size: usize) -> Self {
        Self {
            shards: Arc::new(Shards {
                queue_size: queue_size.max(1),
                list: RwLock::new(Vec::new()),
            }),
        }
    }

    /// How many packets a socket may have waiting before it is dropped.
    pub fn queue_size(&self) -> usize {
        self.shards.queue_size
    }

    /// Registers a socket in `rooms` with the shard of the calling thread
    /// (the socket's own); its events go into `queue` (the transport's).
    pub fn register(
        &self,
        id: SocketId,
        rooms: Vec<String>,
        queue: queue::Sender<Frame>,
    ) -> Membership {
        let shard = self.local_shard();
        let _ = shard.send(Command::Register { id, rooms, queue });
        Membership { id, shard }
    }

    /// Delivers an event to the rooms' members on this instance (or, for
    /// [`DISCONNECT`], disconnects them).
    pub fn deliver(&self, delivery: Delivery) {
        if delivery.name == DISCONNECT {
            self.disconnect(delivery.rooms);
            return;
        }
        let prepared = Arc::new(Prepared {
            delivery,
            shared: OnceLock::new(),
        });
        for shard in self.list().iter() {
            let _ = shard.commands.send(Command::Deliver(prepared.clone()));
        }
    }

    /// Disconnects the sockets of this instance in any of `rooms`.
    pub fn disconnect(&self, rooms: Vec<String>) {
        let rooms = Arc::new(rooms);
        for shard in self.list().iter() {
            let _ = shard.commands.send(Command::Disconnect(rooms.clone()));
        }
    }

    /// How many sockets are registered.
    pub async fn sockets(&self) -> usize {
        let answers: Vec<_> = self
            .list()
            .iter()
            .filter_map(|shard| {
                let (reply, answer) = oneshot::channel();
                shard.commands.send(Command::Count { reply }).ok()?;
                Some(answer)
            })
            .collect();
        let mut total = 0;
        for answer in answers {
            total += answer.await.unwrap_or(0);
        }
        total
    }

    fn list(&self) -> std::sync::RwLockReadGuard<'_, Vec<Shard>> {
        self.shards
            .list
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The calling thread's shard, started if it has none (a shard whose
    /// thread has stopped is forgotten here).
    fn local_shard(&self) -> mpsc::UnboundedSender<Command> {
        let thread = std::thread::current().id();
        let live = |shard: &Shard| !shard.commands.is_closed();
        if let Some(shard) = self
            .list()
            .iter()
            .find(|shard| shard.thread == thread && live(shard))
        {
            return shard.commands.clone();
        }
        let mut list = self
            .shards
            .list
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        list.retain(live);
        if let Some(shard) = list.iter().find(|shard| shard.thread == thread) {
            return shard.commands.clone();
        }
        let (commands, receiver) = mpsc::unbounded_channel();
        // On a server worker (a current-thread runtime) the task runs on
        // this thread, beside the sockets it serves.
        tokio::spawn(run(receiver, (self.shards.queue_size / 2).max(1)));
        list.push(Shard {
            thread,
            commands: commands.clone(),
        });
        commands
    }
}

/// A socket's place in the hub: it joins and leaves rooms, and leaves the
/// hub when dropped. (A socket that could not keep up learns it was dropped
/// from its queue: [`queue::Sender::poll_evicted`].)
pub struct Membership {
    id: SocketId,
    shard: mpsc::UnboundedSender<Command>,
}

impl Membership {
    /// Adds the socket to a room.
    pub fn join(&self, room: String) {
        let _ = self.shard.send(Command::Join { id: self.id, room });
    }

    /// Removes the socket from a room.
    pub fn leave(&self, room: String) {
        let _ = self.shard.send(Command::Leave { id: self.id, room });
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let _ = self.shard.send(Command::Unregister { id: self.id });
    }
}

/// Room name → its members in this shard. A name is stored once and shared
/// by the members' own lists.
type Rooms = HashMap<Arc<str>, HashSet<SocketId>>;

/// A shard's loop. `burst` is how many events it hands out before it lets
/// the writers on its thread run: fewer than a socket's queue holds, so a
/// burst of events never fills the queue of a socket that reads, and more
/// than one, so a busy thread is not made to turn over for every event.
async fn run(mut commands: mpsc::UnboundedReceiver<Command>, burst: usize) {
    let mut members: HashMap<SocketId, Member> = HashMap::new();
    let mut rooms: Rooms = HashMap::new();
    let mut since_yield = 0;
    while let Some(command) = commands.recv().await {
        match command {
            Command::Register {
                id,
                rooms: joined,
                queue,
            } => {
                let mut member = Member {
                    queue,
                    rooms: Vec::with_capacity(joined.len()),
                    seq: 0,
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
            Command::Deliver(prepared) => {
                deliver(&mut members, &mut rooms, &prepared);
                since_yield += 1;
                if since_yield >= burst {
                    // The members' writers share this thread: they take
                    // what came so far out of their queues.
                    since_yield = 0;
                    tokio::task::yield_now().await;
                }
            }
            Command::Disconnect(names) => {
                for id in members_of_rooms(&members, &rooms, &names) {
                    if let Some(member) = members.get(&id) {
                        let _ = member.queue.try_send(disconnect_frame());
                        member.queue.evict();
                    }
                    drop_member(&mut members, &mut rooms, id);
                }
            }
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

/// The members in any of `names`, each once.
fn members_of_rooms(
    members: &HashMap<SocketId, Member>,
    rooms: &Rooms,
    names: &[String],
) -> Vec<SocketId> {
    let members_of = |room: &String| -> Vec<SocketId> {
        match own_room(members, room) {
            Some(id) => vec![id],
            None => rooms
                .get(room.as_str())
                .map(|ids| ids.iter().copied().collect())
                .unwrap_or_default(),
        }
    };
    match names {
        [room] => members_of(room),
        several => several
            .iter()
            .flat_map(members_of)
            .collect::<HashSet<SocketId>>()
            .into_iter()
            .collect(),
    }
}

fn deliver(members: &mut HashMap<SocketId, Member>, rooms: &mut Rooms, prepared: &Prepared) {
    let delivery = &prepared.delivery;
    let ids = members_of_rooms(members, rooms, &delivery.rooms);
    if ids.is_empty() {
        return;
    }
    let shared = prepared.shared_frame();
    let mut too_slow = Vec::new();
    for id in ids {
        let Some(member) = members.get_mut(&id) else {
            continue;
        };
        member.seq += 1;
        let frame = match shared {
            Some(frame) => frame.clone(),
            None => stamped(delivery, member.seq),
        };
        if member.queue.try_send(frame).is_err() {
            member.queue.evict();
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
        membership: Membership,
        /// The session's own sender, which learns of an eviction.
        owner: queue::Sender<Frame>,
    }

    impl Socket {
        fn join(hub: &Hub, rooms: &[&str]) -> (SocketId, Self) {
            let id = Uuid::new_v4();
            let (sender, queue) = queue::channel(hub.queue_size());
            let rooms = rooms.iter().map(|room| (*room).to_owned()).collect();
            let membership = hub.register(id, rooms, sender.clone());
            let socket = Self {
                queue,
                membership,
                owner: sender,
            };
            (id, socket)
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
        let hub = Hub::new(8);
        let (_, mut a) = Socket::join(&hub, &["customer:1"]);
        let (_, mut b) = Socket::join(&hub, &["order:9"]);
        b.membership.join("customer:1".to_owned());
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
        b.membership.leave("customer:1".to_owned());
        hub.deliver(delivery("customer:1", 3));
        assert_eq!(a.data().await["n"], 3);
        assert_eq!(hub.sockets().await, 2);
        assert!(b.queue.try_recv().is_none(), "b left the room");
    }

    /// On a thread of its own with a current-thread runtime (as a server
    /// worker is): a socket joins `room`, says so, and returns the `n` of
    /// the first two events it hears.
    fn socket_on_a_thread(
        hub: &Hub,
        room: &'static str,
        joined: std::sync::mpsc::Sender<SocketId>,
    ) -> std::thread::JoinHandle<(Value, Value)> {
        let hub = hub.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (id, mut socket) = Socket::join(&hub, &[room]);
                joined.send(id).unwrap();
                let first = socket.data().await["n"].clone();
                (first, socket.data().await["n"].clone())
            })
        })
    }

    #[tokio::test]
    async fn sockets_of_two_threads_have_a_shard_each_and_hear_each_event_once() {
        let hub = Hub::new(8);
        let (joined, ids) = std::sync::mpsc::channel();
        let a = socket_on_a_thread(&hub, "customer:1", joined.clone());
        let b = socket_on_a_thread(&hub, "customer:1", joined);
        let (first, second) = (ids.recv().unwrap(), ids.recv().unwrap());
        assert_eq!(hub.list().len(), 2, "one shard per thread");
        assert_eq!(hub.sockets().await, 2, "counted across shards");
        hub.deliver(delivery("customer:1", 1));
        hub.deliver(delivery(&format!("socket:{first}"), 2));
        hub.deliver(delivery(&format!("socket:{second}"), 3));
        let mut heard = [a.join().unwrap(), b.join().unwrap()];
        heard.sort_by_key(|(_, second)| second.as_i64());
        assert_eq!(
            heard,
            [(json!(1), json!(2)), (json!(1), json!(3))],
            "the room's event once on each shard, each own room on its own"
        );
    }

    #[tokio::test]
    async fn a_socket_hears_its_own_room_once_and_no_other_does() {
        let hub = Hub::new(8);
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
        let Socket {
            mut queue,
            membership,
            ..
        } = a;
        drop(membership);
        hub.deliver(delivery(&format!("socket:{a_id}"), 5));
        assert_eq!(hub.sockets().await, 1);
        assert!(queue.try_recv().is_none(), "nothing after it left");
        assert!(b.queue.try_recv().is_none(), "b never hears a's room");
    }

    #[tokio::test]
    async fn an_outbox_event_is_encoded_once_with_its_sequence_for_everyone() {
        let hub = Hub::new(8);
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
        let hub = Hub::new(8);
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
        let hub = Hub::new(2);
        let (_, mut slow) = Socket::join(&hub, &["r"]);
        let (_, mut fast) = Socket::join(&hub, &["r"]);
        for n in 0..3 {
            hub.deliver(delivery("r", n));
            assert_eq!(fast.data().await["n"], n);
        }
        assert_eq!(hub.sockets().await, 1, "the slow socket was dropped");
        std::future::poll_fn(|cx| slow.owner.poll_evicted(cx)).await;
        drop(slow.owner);
        assert!(slow.queue.recv().await.is_some());
        assert!(slow.queue.recv().await.is_some());
        assert!(slow.queue.recv().await.is_none(), "nothing more comes");
    }

    #[tokio::test]
    async fn a_disconnect_delivery_ends_the_members_of_its_rooms_only() {
        let hub = Hub::new(8);
        let (_, mut leaving) = Socket::join(&hub, &["session:1", "customer:1"]);
        let (_, mut staying) = Socket::join(&hub, &["session:2", "customer:1"]);
        let mut logout = delivery("session:1", 0);
        logout.name = DISCONNECT.to_owned();
        hub.deliver(logout);
        hub.deliver(delivery("customer:1", 5));

        assert_eq!(leaving.queue.recv().await, Some(disconnect_frame()));
        std::future::poll_fn(|cx| leaving.owner.poll_evicted(cx)).await;
        assert_eq!(staying.data().await["n"], 5);
        assert_eq!(hub.sockets().await, 1);
        drop(leaving.owner);
        drop(leaving.membership);
        assert!(leaving.queue.recv().await.is_none(), "no event after it");
    }
}
