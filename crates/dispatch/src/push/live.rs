//! Which users have a live socket on this instance, shared through Redis
//! so that every instance's push workers know who hears events on a socket
//! (and is not pushed). The first socket of a user here claims them in
//! Redis, the last one to close drops the claim; while sockets stay (the
//! engine closes a socket that misses its pings) the claims are renewed
//! three times per claim period. Redis down: nobody looks live, so pushes
//! go out (a duplicate at worst, which the apps drop by id).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use uuid::Uuid;
use weelo_cache::Cache;
use weelo_orders::Clock;

use crate::supervisor::Supervisor;

/// This instance's socket owners. Cheap to clone.
#[derive(Clone)]
pub struct LiveSockets {
    cache: Cache,
    clock: Arc<dyn Clock>,
    instance: Arc<str>,
    claim: Duration,
    counts: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl LiveSockets {
    /// Claims that last `claim`.
    pub fn new(cache: Cache, clock: Arc<dyn Clock>, claim: Duration) -> Self {
        Self {
            cache,
            clock,
            instance: Arc::from(Uuid::new_v4().to_string()),
            claim,
            counts: Arc::default(),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, usize>> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn until_ms(&self) -> i64 {
        let claim_ms = i64::try_from(self.claim.as_millis()).unwrap_or(i64::MAX / 2);
        self.clock.now().timestamp_millis().saturating_add(claim_ms)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.claim.as_millis()).unwrap_or(u64::MAX)
    }

    /// A socket of `user` connected here; claims them before it returns (an
    /// event committed after the connect is not pushed to them).
    pub async fn arrived(&self, user: Uuid) {
        *self.counts().entry(user).or_default() += 1;
        if let Err(error) = self
            .cache
            .claim_sockets(&[user], &self.instance, self.until_ms(), self.ttl_ms())
            .await
        {
            tracing::debug!(error = %error, "could not claim a live socket in redis; the user may be pushed too");
        }
    }

    /// A socket of `user` closed here; the claim goes with their last one
    /// (in the background: a close never waits on Redis).
    pub fn left(&self, user: Uuid, supervisor: &Supervisor) {
        let last = {
            let mut counts = self.counts();
            match counts.get_mut(&user) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    counts.remove(&user);
                    true
                }
                None => false,
            }
        };
        if last {
            let this = self.clone();
            supervisor.spawn(async move {
                if this.counts().contains_key(&user) {
                    return; // back already
                }
                if let Err(error) = this.cache.release_sockets(user, &this.instance).await {
                    tracing::debug!(error = %error, "could not drop a socket claim; it runs out by itself");
                }
            });
        }
    }

    /// Renews the claims of every user with a socket here, three times per
    /// claim period, until shutdown.
    pub fn spawn_renewal(&self, supervisor: &Supervisor) {
        let this = self.clone();
        supervisor.spawn_every("push_claims", self.claim / 3, move || {
            let this = this.clone();
            async move {
                let users: Vec<Uuid> = this.counts().keys().copied().collect();
                for chunk in users.chunks(1000) {
                    if let Err(error) = this
                        .cache
                        .claim_sockets(chunk, &this.instance, this.until_ms(), this.ttl_ms())
                        .await
                    {
                        tracing::debug!(error = %error, "could not renew socket claims");
                        break;
                    }
                }
            }
        });
    }

    /// For each of `users`, whether some instance claims a live socket of
    /// theirs now; `None` when Redis cannot say.
    pub async fn live(&self, users: &[Uuid]) -> Option<Vec<bool>> {
        match self
            .cache
            .with_live_socket(users, self.clock.now().timestamp_millis())
            .await
        {
            Ok(live) => Some(live),
            Err(error) => {
                tracing::debug!(error = %error, "socket claims unreadable; pushing to everyone");
                None
            }
        }
    }
}
