//! Sliding-window rate limits in Redis, one Lua call per hit so parallel
//! requests are counted one by one. The caller's clock supplies "now", so
//! tests move time instead of sleeping. On a Redis error callers fail open:
//! a limit protects the service, it never decides correctness.

use std::sync::LazyLock;

use deadpool_redis::redis::Script;

use crate::{Cache, CacheError};

/// Counts a hit unless the window is full; returns `[allowed, retry_after_ms]`.
const SLIDING_WINDOW: &str = r"
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
";
/// The script, its SHA1 computed once (`EVALSHA` names it by that).
static SLIDING_WINDOW_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(SLIDING_WINDOW));

/// The verdict on one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Under the limit; counted.
    Allowed,
    /// Over the limit; not counted.
    Limited {
        /// Until the oldest counted hit leaves the window.
        retry_after_ms: u64,
    },
}

impl Cache {
    /// Counts a hit of `bucket` (e.g. `create-order:{customer}`) against
    /// `limit` hits per `window_ms`, at `now_ms`; `hit_id` must be unique
    /// per hit.
    pub async fn rate_limit(
        &self,
        bucket: &str,
        limit: u32,
        window_ms: u64,
        now_ms: i64,
        hit_id: &str,
    ) -> Result<RateDecision, CacheError> {
        let mut conn = self.conn().await?;
        let (allowed, retry_after): (i64, i64) = SLIDING_WINDOW_SCRIPT
            .key(self.key(&format!("rl:{bucket}")))
            .arg(now_ms)
            .arg(window_ms)
            .arg(limit)
            .arg(hit_id)
            .invoke_async(&mut conn)
            .await?;
        Ok(if allowed == 1 {
            RateDecision::Allowed
        } else {
            RateDecision::Limited {
                retry_after_ms: u64::try_from(retry_after).unwrap_or(0).max(1),
            }
        })
    }
}

impl Cache {
    /// Takes back hit `hit_id` of `bucket` (a request that turned out to be
    /// a replay, which must not count).
    pub async fn rate_limit_undo(&self, bucket: &str, hit_id: &str) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let _: i64 = deadpool_redis::redis::cmd("ZREM")
            .arg(self.key(&format!("rl:{bucket}")))
            .arg(hit_id)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
