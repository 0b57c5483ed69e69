//! Short Redis locks (`SET NX PX` with an owner token, released by a
//! compare-and-delete script). They only spare duplicate work, such as two
//! instances running the cleanup job at once; correctness never rests on them.

use std::sync::LazyLock;

use deadpool_redis::redis::{self, Script};

use crate::{Cache, CacheError};

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";
/// The script, its SHA1 computed once (`EVALSHA` names it by that).
static RELEASE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE));

impl Cache {
    /// Takes lock `name` for `ttl_ms` as `owner`; `false` when someone holds it.
    pub async fn try_lock(&self, name: &str, owner: &str, ttl_ms: u64) -> Result<bool, CacheError> {
        let mut conn = self.conn().await?;
        let taken: Option<String> = redis::cmd("SET")
            .arg(self.key(&format!("lock:{name}")))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut conn)
            .await?;
        Ok(taken.is_some())
    }

    /// Releases lock `name` if `owner` still holds it.
    pub async fn unlock(&self, name: &str, owner: &str) -> Result<bool, CacheError> {
        let mut conn = self.conn().await?;
        let deleted: i64 = RELEASE_SCRIPT
            .key(self.key(&format!("lock:{name}")))
            .arg(owner)
            .invoke_async(&mut conn)
            .await?;
        Ok(deleted == 1)
    }
}
