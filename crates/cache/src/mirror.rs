//! Snapshots of PostgreSQL state kept in Redis for fast reads, such as an
//! order's status. Each carries a version; a write never replaces a newer
//! snapshot with an older one (one Lua call compares and sets), so a reader
//! never sees a state older than one already returned.

use std::sync::LazyLock;

use deadpool_redis::redis::{self, Script};

use crate::{Cache, CacheError};

/// For each pair of keys (`value`, `value:v`), sets the value unless the
/// stored version is newer. ARGV: ttl, then (version, json) per pair.
/// Returns how many were written.
const SET_IF_NEWER: &str = r"
local written = 0
for i = 1, #KEYS / 2 do
  local current = tonumber(redis.call('GET', KEYS[2 * i]) or '-1')
  local incoming = tonumber(ARGV[2 * i])
  if incoming >= current then
    redis.call('SET', KEYS[2 * i - 1], ARGV[2 * i + 1], 'PX', ARGV[1])
    redis.call('SET', KEYS[2 * i], ARGV[2 * i], 'PX', ARGV[1])
    written = written + 1
  end
end
return written
";
/// The script, its SHA1 computed once (`EVALSHA` names it by that).
static SET_IF_NEWER_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(SET_IF_NEWER));

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
        Ok(self.put_snapshots(&[(name, version, json)], ttl_ms).await? == 1)
    }

    /// [`Cache::put_snapshot`] for several snapshots in one round trip;
    /// returns how many were written.
    pub async fn put_snapshots(
        &self,
        snapshots: &[(&str, i64, &str)],
        ttl_ms: u64,
    ) -> Result<usize, CacheError> {
        let mut invocation = SET_IF_NEWER_SCRIPT.prepare_invoke();
        invocation.arg(ttl_ms);
        for (name, version, json) in snapshots {
            invocation
                .key(self.key(name))
                .key(self.key(&format!("{name}:v")));
            invocation.arg(*version).arg(*json);
        }
        let mut conn = self.conn().await?;
        let written: i64 = invocation.invoke_async(&mut conn).await?;
        Ok(usize::try_from(written).unwrap_or(0))
    }

    /// The snapshot under `name`, if any.
    pub async fn get_snapshot(&self, name: &str) -> Result<Option<String>, CacheError> {
        let mut conn = self.conn().await?;
        Ok(redis::cmd("GET")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await?)
    }

    /// The snapshots under `names`, in order, in one round trip (`None`
    /// where there is none).
    pub async fn get_snapshots(&self, names: &[String]) -> Result<Vec<Option<String>>, CacheError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let mut command = redis::cmd("MGET");
        for name in names {
            command.arg(self.key(name));
        }
        Ok(command.query_async(&mut conn).await?)
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
