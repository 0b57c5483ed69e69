//! The long-polling transport and the upgrade to WebSocket. Each
//! connection's channels are reachable by sid: a POST feeds its inbound
//! channel, a GET waits on its outbound queue, and a WebSocket opened with
//! the sid takes the outbound queue over after the probe (`2probe` /
//! `3probe`, a noop to the pending poll, then `5`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use crate::engine::{self, EnginePacket, Frame};
use crate::queue;
use crate::session::Inbound;

/// Which transport a connection is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Long-polling.
    Polling,
    /// A WebSocket is probing to take over.
    Upgrading,
    /// On a WebSocket for good.
    WebSocket,
}

/// How long a poll during an upgrade waits for it to complete before it
/// answers a noop (Engine.IO checks every 100 ms).
const UPGRADE_CHECK: Duration = Duration::from_millis(100);

/// One connection's ends, for the transports.
#[derive(Clone)]
pub struct PollHandle {
    /// Where client packets go.
    pub inbound: queue::Sender<Inbound>,
    /// Where the server's packets go (the upgrade puts its noop here).
    pub out: queue::Sender<Frame>,
    /// The server's packets; `None` once a WebSocket took them over.
    pub outbound: Arc<tokio::sync::Mutex<Option<queue::Receiver<Frame>>>>,
    transport: Arc<watch::Sender<Transport>>,
    /// The session ended; its last packets wait for one more poll.
    ended: Arc<AtomicBool>,
}

/// Connections by sid. Cheap to clone.
#[derive(Clone, Default)]
pub struct PollRegistry {
    handles: Arc<Mutex<HashMap<Uuid, PollHandle>>>,
}

/// Why a poll or a post was refused (Engine.IO answers these with 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    /// No such session.
    #[error("Session ID unknown")]
    UnknownSid,
    /// The session is on a WebSocket now.
    #[error("Bad request")]
    BadRequest,
    /// A second GET while one is pending (the session is closed for it).
    #[error("Overlapping poll")]
    Overlap,
    /// A payload that is not Engine.IO (the session is closed for it).
    #[error("Malformed payload")]
    Malformed,
    /// The session ended.
    #[error("Session closed")]
    Closed,
}

impl PollRegistry {
    /// Registers `sid`'s ends.
    pub fn insert(&self, sid: Uuid, handle: PollHandle) {
        self.lock().insert(sid, handle);
    }

    /// Forgets `sid`.
    pub fn remove(&self, sid: Uuid) {
        self.lock().remove(&sid);
    }

    /// `sid`'s ends.
    pub fn get(&self, sid: Uuid) -> Option<PollHandle> {
        self.lock().get(&sid).cloned()
    }

    /// Ends `sid` for a protocol error: it is unreachable at once (the next
    /// request with it is a 400) and its session closes.
    pub fn fail(&self, sid: Uuid, handle: &PollHandle) {
        self.remove(sid);
        let _ = handle.inbound.try_send(Inbound::Malformed);
    }

    /// The client closed `sid`: the poll pending now, or the next one within
    /// `linger`, gets what the session sent last (a noop); then it is gone.
    pub fn linger(&self, sid: Uuid, linger: Duration) {
        let Some(handle) = self.get(sid) else {
            return;
        };
        handle.ended.store(true, Ordering::Release);
        let registry = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(linger).await;
            registry.remove(sid);
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, PollHandle>> {
        self.handles.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PollHandle {
    /// The ends of a new connection on `transport`.
    pub fn new(
        inbound: queue::Sender<Inbound>,
        out: queue::Sender<Frame>,
        outbound: queue::Receiver<Frame>,
        transport: Transport,
    ) -> Self {
        Self {
            inbound,
            out,
            outbound: Arc::new(tokio::sync::Mutex::new(Some(outbound))),
            transport: Arc::new(watch::Sender::new(transport)),
            ended: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Claims the upgrade for a WebSocket; false when the connection is
    /// already upgrading or upgraded.
    pub fn begin_upgrade(&self) -> bool {
        self.transport.send_if_modified(|transport| {
            let claimed = *transport == Transport::Polling;
            if claimed {
                *transport = Transport::Upgrading;
            }
            claimed
        })
    }

    /// Ends an upgrade: on the WebSocket for good, or back to polling.
    pub fn end_upgrade(&self, upgraded: bool) {
        let to = if upgraded {
            Transport::WebSocket
        } else {
            Transport::Polling
        };
        self.transport.send_replace(to);
    }

    /// A WebSocket takes the connection over: the server's packets and the
    /// way in. The handle is given up, so only the session holds the sending
    /// end of the packets and the queue closes when it ends.
    pub async fn take_over(self) -> Option<(queue::Receiver<Frame>, queue::Sender<Inbound>)> {
        let outbound = self.outbound.lock().await.take()?;
        Some((outbound, self.inbound))
    }

    /// Whether the session has ended (its last packets may still wait).
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    fn on_websocket(&self) -> bool {
        *self.transport.borrow() == Transport::WebSocket
    }

    /// Waits up to `wait` for the server's packets and returns them as one
    /// payload (the first poll returns the open packet at once). A second
    /// poll while one waits is [`PollError::Overlap`].
    pub async fn poll(&self, wait: Duration) -> Result<String, PollError> {
        if *self.transport.borrow() == Transport::Upgrading {
            // The client polls while a WebSocket probes: if the upgrade
            // completes now this poll is refused, otherwise it gets a noop.
            let mut changes = self.transport.subscribe();
            let _ = tokio::time::timeout(
                UPGRADE_CHECK,
                changes.wait_for(|transport| *transport != Transport::Upgrading),
            )
            .await;
            if *self.transport.borrow() != Transport::Polling {
                return match *self.transport.borrow() {
                    Transport::WebSocket => Err(PollError::BadRequest),
                    _ => Ok(EnginePacket::Noop.encode()),
                };
            }
        }
        if self.on_websocket() {
            return Err(PollError::BadRequest);
        }
        let mut guard = self.outbound.try_lock().map_err(|_| PollError::Overlap)?;
        let queue = guard.as_mut().ok_or(PollError::BadRequest)?;
        let first = match tokio::time::timeout(wait, queue.recv()).await {
            Ok(Some(first)) => first,
            Ok(None) => return Err(PollError::Closed),
            Err(_) => EnginePacket::Noop.frame(),
        };
        let mut frames = vec![first];
        while let Some(next) = queue.try_recv() {
            frames.push(next);
        }
        Ok(engine::encode_payload(&frames))
    }

    /// Hands a POSTed payload to the connection; a malformed one is
    /// [`PollError::Malformed`] and nothing of it is delivered.
    pub async fn post(&self, payload: &str) -> Result<(), PollError> {
        if self.on_websocket() {
            return Err(PollError::BadRequest);
        }
        let packets = engine::decode_payload(payload).map_err(|_| PollError::Malformed)?;
        for packet in packets {
            self.inbound
                .send(Inbound::Packet(packet))
                .await
                .map_err(|_| PollError::Closed)?;
        }
        Ok(())
    }
}
