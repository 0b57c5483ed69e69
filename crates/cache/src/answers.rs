//! Answers kept for a while: a provider's answer stored as text under a
//! name for a TTL (place search, reverse look-up, routes), read back by
//! any instance. A miss or an error only means asking again.

use deadpool_redis::redis;

use crate::{Cache, CacheError};

impl Cache {
    /// The answer kept under `name`, if any.
    pub async fn get_answer(&self, name: &str) -> Result<Option<String>, CacheError> {
        let mut conn = self.conn().await?;
        Ok(redis::cmd("GET")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await?)
    }

    /// Keeps `answer` under `name` for `ttl_ms`.
    pub async fn put_answer(
        &self,
        name: &str,
        answer: &str,
        ttl_ms: u64,
    ) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let () = redis::cmd("SET")
            .arg(self.key(name))
            .arg(answer)
            .arg("PX")
            .arg(ttl_ms.max(1))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
