//! Which users have a live socket on any instance, for the push workers (a
//! user with one hears events on it and is not also pushed). One hash per
//! user, `sockets:{id}`: a field per instance holding that instance's socket
//! of the user, valued with the time (ms) its claim runs out. Each instance
//! re-claims its users' sockets more often than the claim lasts while the
//! sockets answer their pings, and drops its field when the user's last
//! socket there closes; a crashed instance's claim simply runs out.

use deadpool_redis::redis::{self, Pipeline};
use uuid::Uuid;

use crate::{Cache, CacheError};

fn sockets_key(user: Uuid) -> String {
    format!("sockets:{user}")
}

impl Cache {
    /// Claims a live socket on `instance` for each of `users` until
    /// `until_ms` (the hash itself lives `ttl_ms`), in one round trip.
    pub async fn claim_sockets(
        &self,
        users: &[Uuid],
        instance: &str,
        until_ms: i64,
        ttl_ms: u64,
    ) -> Result<(), CacheError> {
        if users.is_empty() {
            return Ok(());
        }
        let mut pipe = Pipeline::new();
        for user in users {
            let key = self.key(&sockets_key(*user));
            pipe.cmd("HSET")
                .arg(&key)
                .arg(instance)
                .arg(until_ms)
                .ignore();
            pipe.cmd("PEXPIRE").arg(&key).arg(ttl_ms).ignore();
        }
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Drops `instance`'s claim for `user` (their last socket there closed).
    pub async fn release_sockets(&self, user: Uuid, instance: &str) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let _: i64 = redis::cmd("HDEL")
            .arg(self.key(&sockets_key(user)))
            .arg(instance)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// For each of `users`, in order, whether some instance claims a live
    /// socket of theirs at `now_ms`.
    pub async fn with_live_socket(
        &self,
        users: &[Uuid],
        now_ms: i64,
    ) -> Result<Vec<bool>, CacheError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = Pipeline::new();
        for user in users {
            pipe.cmd("HVALS").arg(self.key(&sockets_key(*user)));
        }
        let mut conn = self.conn().await?;
        let claims: Vec<Vec<i64>> = pipe.query_async(&mut conn).await?;
        Ok(claims
            .into_iter()
            .map(|until| until.into_iter().any(|until_ms| until_ms > now_ms))
            .collect())
    }
}
