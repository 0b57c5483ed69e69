//! A short per-instance memory of sessions found live in PostgreSQL, so an
//! authenticated request (a heartbeat every 5 s from every online
//! transporter) does not cost a database read each time.
//!
//! Logout evicts the session on the instance that served it at once; on
//! other instances a revoked session may keep working for at most
//! `auth.session_cache_secs` (0 turns the cache off). Entries are checked
//! against the request clock, so tests drive them with a manual clock.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Most sessions remembered; past this the memory is cleared (a rare event
/// that only costs database reads).
const MAX_ENTRIES: usize = 200_000;

/// Sessions recently found live.
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    live: Mutex<HashMap<Uuid, (Uuid, DateTime<Utc>)>>,
}

impl SessionCache {
    /// A cache keeping entries for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Whether session `sid` of `user_id` was found live within the TTL.
    pub fn is_live(&self, sid: Uuid, user_id: Uuid, now: DateTime<Utc>) -> bool {
        if self.ttl <= Duration::zero() {
            return false;
        }
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.get(&sid)
            .is_some_and(|(user, checked)| *user == user_id && now - *checked < self.ttl)
    }

    /// Remembers that `sid` was found live at `now`.
    pub fn remember(&self, sid: Uuid, user_id: Uuid, now: DateTime<Utc>) {
        if self.ttl <= Duration::zero() {
            return;
        }
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.len() >= MAX_ENTRIES {
            live.clear();
        }
        live.insert(sid, (user_id, now));
    }

    /// Forgets `sid` (logout).
    pub fn forget(&self, sid: Uuid) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&sid);
    }

    /// Forgets every session of `user_id` (the account was removed).
    pub fn forget_user(&self, user_id: Uuid) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, (user, _)| *user != user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_for_the_ttl_and_die_on_forget() {
        let cache = SessionCache::new(Duration::seconds(10));
        let (sid, user, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        assert!(!cache.is_live(sid, user, now));
        cache.remember(sid, user, now);
        assert!(cache.is_live(sid, user, now + Duration::seconds(9)));
        assert!(
            !cache.is_live(sid, Uuid::new_v4(), now),
            "another user's token with this sid"
        );
        assert!(!cache.is_live(sid, user, now + Duration::seconds(10)));
        cache.forget(sid);
        assert!(!cache.is_live(sid, user, now));
    }
}
