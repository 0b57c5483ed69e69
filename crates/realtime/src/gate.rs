//! What the realtime server asks of the application: whether a handshake
//! may connect to a namespace (and which rooms and greeting that gives it),
//! and what to answer to each client event. `api` implements it with tokens
//! and PostgreSQL, so this crate stays free of storage; the conformance
//! server implements it as the protocol suites expect.

use actix_web::web::Bytes;
use futures_util::future::BoxFuture;
use serde_json::Value;
use uuid::Uuid;

/// Arguments of an event or an ack: JSON values, where binary data stands
/// as `{"_placeholder":true,"num":n}` for `attachments[n]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// The JSON arguments.
    pub values: Vec<Value>,
    /// The binary attachments their placeholders refer to.
    pub attachments: Vec<Bytes>,
}

impl Args {
    /// One JSON argument, no binary.
    pub fn one(value: Value) -> Self {
        Self {
            values: vec![value],
            attachments: Vec::new(),
        }
    }
}

/// An event for the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Emit {
    /// Its name.
    pub name: String,
    /// Its arguments.
    pub args: Args,
}

impl Emit {
    /// `name` with one JSON argument.
    pub fn new(name: impl Into<String>, data: Value) -> Self {
        Self {
            name: name.into(),
            args: Args::one(data),
        }
    }
}

/// A namespace CONNECT.
#[derive(Debug, Clone, Copy)]
pub struct Handshake<'a> {
    /// The namespace (`/`, `/custom`…).
    pub namespace: &'a str,
    /// The socket id the connect will answer with.
    pub sid: Uuid,
    /// The CONNECT payload (`{}` when the client sent none).
    pub auth: &'a Value,
}

/// A connected socket's owner and what it gets at connect.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The user (nil for anonymous sockets).
    pub user_id: Uuid,
    /// `customer`, `transporter`, `driver`, or what the application uses.
    pub role: String,
    /// Rooms joined at connect (`user:{id}`, `{role}:{id}`…); only sockets of
    /// the main namespace are in the hub's rooms. Rooms and greeting are
    /// consumed by the connect: events see them empty.
    pub rooms: Vec<String>,
    /// Events emitted right after the CONNECT answer, in order.
    pub greeting: Vec<Emit>,
    /// How long the credentials of the CONNECT stay good (an access token's
    /// remaining life): the socket is disconnected when they lapse, and the
    /// client connects again with fresh ones. `None`: for the connection's
    /// life.
    pub valid_for: Option<std::time::Duration>,
}

/// An event the client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientEvent {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its arguments (after the name).
    pub args: Args,
    /// Whether the client waits for an ack.
    pub wants_ack: bool,
}

impl ClientEvent {
    /// The first argument (`null` when there is none).
    pub fn data(&self) -> &Value {
        self.args.values.first().unwrap_or(&Value::Null)
    }
}

/// The application's answer to a client event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// The ack's arguments (sent only when the client asked for one).
    pub ack: Option<Args>,
    /// Events for this socket, after the ack.
    pub emits: Vec<Emit>,
    /// Rooms this socket joins.
    pub join: Vec<String>,
    /// Rooms this socket leaves.
    pub leave: Vec<String>,
}

/// The application's answers.
pub trait Gatekeeper: Send + Sync {
    /// Checks a CONNECT; the error is the message of the CONNECT_ERROR
    /// (`Invalid namespace` for a namespace the application does not serve).
    fn connect<'a>(&'a self, handshake: Handshake<'a>) -> BoxFuture<'a, Result<Identity, String>>;

    /// Answers a client event of a connected socket.
    fn on_event<'a>(&'a self, who: &'a Identity, event: ClientEvent) -> BoxFuture<'a, Reply>;

    /// The main namespace's socket of `who` closed (a DISCONNECT, a lost
    /// connection, missed pings). Called once per connected socket; it must
    /// not block (spawn what takes time).
    fn disconnected(&self, _who: &Identity) {}
}
