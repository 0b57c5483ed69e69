//! What one client may hold and send: Engine.IO sessions per client address
//! and in total (refused at the handshake, before any work), sockets per
//! user (the oldest is closed), and a per-socket event rate (a token bucket;
//! an event over it is dropped and counted, and a socket that keeps
//! exceeding is closed). Per instance: the load balancer spreads one
//! client's connections, so each instance's share is what it must bound.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;
use uuid::Uuid;

use crate::engine::Frame;
use crate::hub::{SocketId, disconnect_frame};
use crate::queue;

/// The limits of one instance (0 = unlimited).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Engine.IO sessions open at once, in total.
    pub max_sessions: usize,
    /// Engine.IO sessions open at once from one client address.
    pub max_sessions_per_ip: usize,
    /// Sockets of one user; a new one closes the oldest.
    pub max_sockets_per_user: usize,
    /// Client events a socket may send per second (the bucket holds twice
    /// as many).
    pub events_per_second: u32,
}

/// What the limits have refused so far, for metrics.
#[derive(Debug, Default)]
pub struct Refusals {
    /// Handshakes refused for the total or per-address cap.
    pub sessions: AtomicU64,
    /// Sockets closed because their user opened more.
    pub sockets_replaced: AtomicU64,
    /// Client events dropped for the rate.
    pub events_dropped: AtomicU64,
    /// Sockets closed for exceeding the rate again and again.
    pub sockets_flooding: AtomicU64,
}

/// Each user's sockets on this instance, oldest first, with their queues.
type UserSockets = HashMap<Uuid, VecDeque<(SocketId, queue::Sender<Frame>)>>;

/// The shared state of the limits.
#[derive(Default)]
pub struct Guard {
    limits: Limits,
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    users: Mutex<UserSockets>,
    /// What was refused.
    pub refusals: Refusals,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("limits", &self.limits)
            .field("sessions", &self.sessions())
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// Limits to enforce.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            ..Self::default()
        })
    }

    /// The configured limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A permit for a new Engine.IO session from `client` (unknown: only the
    /// total counts), or `None` when a cap is reached.
    pub fn open_session(self: &Arc<Self>, client: Option<IpAddr>) -> Option<SessionPermit> {
        let total = self.total.fetch_add(1, Ordering::AcqRel) + 1;
        let refuse = |this: &Arc<Self>| {
            this.total.fetch_sub(1, Ordering::AcqRel);
            this.refusals.sessions.fetch_add(1, Ordering::Relaxed);
            None
        };
        if self.limits.max_sessions > 0 && total > self.limits.max_sessions {
            return refuse(self);
        }
        if let Some(ip) = client.filter(|_| self.limits.max_sessions_per_ip > 0) {
            let mut per_ip = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
            let count = per_ip.entry(ip).or_default();
            if *count >= self.limits.max_sessions_per_ip {
                drop(per_ip);
                return refuse(self);
            }
            *count += 1;
        }
        Some(SessionPermit {
            _held: Box::new(Permit {
                guard: Arc::clone(self),
                client: client.filter(|_| self.limits.max_sessions_per_ip > 0),
            }),
        })
    }

    /// Sessions open now.
    pub fn sessions(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// Records `socket` as one of `user`'s; past the cap the oldest is told
    /// it is disconnected and evicted.
    pub(crate) fn add_socket(&self, user: Uuid, socket: SocketId, queue: queue::Sender<Frame>) {
        if self.limits.max_sockets_per_user == 0 || user.is_nil() {
            return;
        }
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let sockets = users.entry(user).or_default();
        sockets.push_back((socket, queue));
        while sockets.len() > self.limits.max_sockets_per_user {
            let Some((oldest, queue)) = sockets.pop_front() else {
                break;
            };
            tracing::debug!(socket.id = %oldest, user.id = %user, "a newer socket of the user replaces it");
            let _ = queue.try_send(disconnect_frame());
            queue.evict();
            self.refusals
                .sockets_replaced
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Forgets a closed socket.
    pub(crate) fn remove_socket(&self, user: Uuid, socket: SocketId) {
        if self.limits.max_sockets_per_user == 0 || user.is_nil() {
            return;
        }
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sockets) = users.get_mut(&user) {
            sockets.retain(|(id, _)| *id != socket);
            if sockets.is_empty() {
                users.remove(&user);
            }
        }
    }
}

struct Permit {
    guard: Arc<Guard>,
    client: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.guard.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.client {
            let mut per_ip = self
                .guard
                .per_ip
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = per_ip.get_mut(&ip) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

/// An open session's place under the caps; dropping it frees the place.
pub struct SessionPermit {
    _held: Box<Permit>,
}

impl std::fmt::Debug for SessionPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionPermit")
    }
}

/// A socket's event allowance: `rate` per second, up to `2 × rate` at once.
#[derive(Debug)]
pub(crate) struct EventBudget {
    rate: f64,
    tokens: f64,
    last: Instant,
    /// Events dropped since the bucket was last full.
    strikes: u32,
}

/// What the budget says of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Handle it.
    Allow,
    /// Drop it.
    Drop,
    /// Drop it and close the socket: it kept exceeding.
    Close,
}

impl EventBudget {
    pub(crate) fn new(events_per_second: u32) -> Self {
        let rate = f64::from(events_per_second);
        Self {
            rate,
            tokens: rate * 2.0,
            last: Instant::now(),
            strikes: 0,
        }
    }

    /// Takes a token for an event arriving `now`.
    pub(crate) fn take(&mut self, now: Instant) -> Verdict {
        if self.rate <= 0.0 {
            return Verdict::Allow;
        }
        let burst = self.rate * 2.0;
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(burst);
        if self.tokens >= burst {
            self.strikes = 0;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Allow;
        }
        self.strikes += 1;
        // As many drops as a full burst, without the client ever slowing
        // down enough to refill it: not a burst, a flood.
        if f64::from(self.strikes) > burst {
            Verdict::Close
        } else {
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn sessions_are_capped_per_address_and_in_total_and_freed_on_drop() {
        let guard = Guard::new(Limits {
            max_sessions: 3,
            max_sessions_per_ip: 2,
            ..Limits::default()
        });
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        let first = guard.open_session(Some(a)).unwrap();
        let _second = guard.open_session(Some(a)).unwrap();
        assert!(
            guard.open_session(Some(a)).is_none(),
            "a third from one address"
        );
        let _third = guard.open_session(Some(b)).unwrap();
        assert!(guard.open_session(Some(b)).is_none(), "a fourth in total");
        drop(first);
        assert!(guard.open_session(Some(a)).is_some(), "a place was freed");
        assert_eq!(guard.refusals.sessions.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_sixth_socket_of_a_user_evicts_the_oldest() {
        let guard = Guard::new(Limits {
            max_sockets_per_user: 2,
            ..Limits::default()
        });
        let user = Uuid::new_v4();
        let mut receivers = Vec::new();
        let mut senders = Vec::new();
        for _ in 0..3 {
            let (sender, receiver) = queue::channel::<Frame>(4);
            guard.add_socket(user, Uuid::new_v4(), sender.clone());
            senders.push(sender);
            receivers.push(receiver);
        }
        assert_eq!(receivers[0].try_recv(), Some(disconnect_frame()));
        assert_eq!(receivers[1].try_recv(), None);
        assert_eq!(receivers[2].try_recv(), None);
        assert_eq!(guard.refusals.sockets_replaced.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_event_budget_allows_a_burst_drops_a_flood_and_closes_a_flooder() {
        let start = Instant::now();
        let mut budget = EventBudget::new(10);
        let allowed = (0..25)
            .filter(|_| budget.take(start) == Verdict::Allow)
            .count();
        assert_eq!(allowed, 20, "a burst of twice the rate");
        // Half a second later five more tokens came.
        let later = start + Duration::from_millis(500);
        let allowed = (0..5)
            .filter(|_| budget.take(later) == Verdict::Allow)
            .count();
        assert_eq!(allowed, 5);
        let verdicts: Vec<Verdict> = (0..30).map(|_| budget.take(later)).collect();
        assert_eq!(verdicts.last(), Some(&Verdict::Close), "{verdicts:?}");
        // A client that calms down starts with a clean slate.
        let calm = later + Duration::from_secs(3);
        assert_eq!(budget.take(calm), Verdict::Allow);
        assert_eq!(budget.strikes, 0);
    }
}
