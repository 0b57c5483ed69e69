//! Snapshots of PostgreSQL state kept in Redis for fast reads, such as an
//! order's status. Each carries a version; a write never replaces a newer
//! snapshot with an older one (one Lua call compares and sets), so a reader
//! never sees a state older than one already returned.

use deadpool_redis::redis::{self, Script};

use crate::{Cache, CacheError};

/// Sets `KEYS[1]` to `ARGV[2]` unless the stored version `KEYS[1]:v` is newer.
const SET_IF_NEWER: &str = r"
local current = tonumber(redis.call('GET', KEYS[2]) or '-1')
local incoming = tonumber(ARGV[1])
if incoming < current then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return 1
";

impl Cache {
    /// Stores `json` under `name` at `version` for `ttl_ms`, unless a newer
    /// version is already there. Returns whether it was written.
    pub async fn put_snapshot(
        &self,
        name: &str,
        version: i64,
        json: &str,
        ttl_ms: u64,
    ) -> Result<bool, CacheError> {
        let mut conn = self.conn().await?;
        let written: i64 = Script::new(SET_IF_NEWER)
            .key(self.key(name))
            .key(self.key(&format!("{name}:v")))
            .arg(version)
            .arg(json)
            .arg(ttl_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(written == 1)
    }

    /// The snapshot under `name`, if any.
    pub async fn get_snapshot(&self, name: &str) -> Result<Option<String>, CacheError> {
        let mut conn = self.conn().await?;
        Ok(redis::cmd("GET")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await?)
    }

    /// Removes the snapshot under `name` (after a change whose new state
    /// could not be written, so readers fall back to PostgreSQL).
    pub async fn drop_snapshot(&self, name: &str) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let _: i64 = redis::cmd("DEL")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
