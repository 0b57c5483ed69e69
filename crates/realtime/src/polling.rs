//! The long-polling transport and the upgrade to WebSocket. Each
//! connection's channels are reachable by sid: a POST feeds its inbound
//! channel, a GET waits on its outbound queue, and a WebSocket opened with
//! the sid takes the outbound queue over after the probe (`2probe` /
//! `3probe`, a noop to the pending poll, then `5`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::engine::{self, EnginePacket};
use crate::session::Inbound;

/// One connection's ends, for the transports.
#[derive(Clone)]
pub struct PollHandle {
    /// Where client packets go.
    pub inbound: mpsc::Sender<Inbound>,
    /// Where the server's packets go (the upgrade puts its noop here).
    pub out: mpsc::Sender<String>,
    /// The server's packets; `None` once a WebSocket took them over.
    pub outbound: Arc<tokio::sync::Mutex<Option<mpsc::Receiver<String>>>>,
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
    /// A second GET while one is pending, or the session was upgraded.
    #[error("Bad request")]
    BadRequest,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, PollHandle>> {
        self.handles.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PollHandle {
    /// Waits up to `wait` for the server's packets and returns them as one
    /// payload (the first poll returns the open packet at once).
    pub async fn poll(&self, wait: Duration) -> Result<String, PollError> {
        let mut guard = self
            .outbound
            .try_lock()
            .map_err(|_| PollError::BadRequest)?;
        let queue = guard.as_mut().ok_or(PollError::BadRequest)?;
        let first = match tokio::time::timeout(wait, queue.recv()).await {
            Ok(Some(first)) => first,
            Ok(None) => return Err(PollError::Closed),
            Err(_) => EnginePacket::Noop.encode(),
        };
        let mut packets = vec![first];
        while let Ok(next) = queue.try_recv() {
            packets.push(next);
        }
        Ok(packets.join(&engine::SEPARATOR.to_string()))
    }

    /// Hands a POSTed payload to the connection.
    pub async fn post(&self, payload: &str) -> Result<(), PollError> {
        let packets = engine::decode_payload(payload).map_err(|_| PollError::BadRequest)?;
        for packet in packets {
            self.inbound
                .send(Inbound::Text(packet.encode()))
                .await
                .map_err(|_| PollError::Closed)?;
        }
        Ok(())
    }
}
