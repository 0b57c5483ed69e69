//! The Redis pool and the key prefix every key goes through.

use std::time::Duration;

use deadpool_redis::redis::{self, AsyncConnectionConfig};
use deadpool_redis::{Manager, Runtime};
use secrecy::ExposeSecret;

use crate::pool::{Conn, RedisManager, RedisPool};
use crate::{CacheError, RedisSettings};

/// Whether the connection to Redis is encrypted; decided by the URL's scheme
/// alone (`rediss://` is TLS), so a plain URL can never be forced onto TLS or
/// the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `redis://` or `unix://`.
    Plain,
    /// `rediss://`.
    Tls,
}

impl TlsMode {
    /// Reads the mode off a Redis URL.
    pub fn of_url(url: &str) -> Self {
        if url
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("rediss://")
        {
            Self::Tls
        } else {
            Self::Plain
        }
    }
}

/// A handle on Redis: the pool plus the key prefix. Cheap to clone.
#[derive(Clone)]
pub struct Cache {
    pool: RedisPool,
    /// For pub/sub, which needs a connection of its own.
    client: redis::Client,
    prefix: String,
    tls: TlsMode,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("prefix", &self.prefix)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Builds the pool. No connection is opened here, so the server starts
    /// while Redis is down and uses it once it answers.
    pub fn connect(settings: &RedisSettings) -> Result<Self, CacheError> {
        let url = settings.url.expose_secret();
        let timeout = Some(Duration::from_millis(settings.timeout_ms));
        let connection_config = AsyncConnectionConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout);
        let manager = Manager::new_with_config(url, connection_config)
            .map_err(|e| CacheError::Config(e.to_string()))?;
        let manager = RedisManager::new(
            manager,
            Duration::from_millis(settings.verify_idle_after_ms),
        );
        let pool = RedisPool::builder(manager)
            .runtime(Runtime::Tokio1)
            .max_size(settings.pool_size.max(1))
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|e| CacheError::Config(e.to_string()))?;
        let client = redis::Client::open(url).map_err(|e| CacheError::Config(e.to_string()))?;
        Ok(Self {
            pool,
            client,
            prefix: settings.key_prefix.clone(),
            tls: TlsMode::of_url(url),
        })
    }

    /// Whether connections use TLS.
    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    /// The full key for `suffix`, under this deployment's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// The pool's figures: (connections open, idle, callers waiting, most
    /// allowed).
    pub fn pool_figures(&self) -> (usize, usize, usize, usize) {
        let status = self.pool.status();
        (
            status.size,
            status.available,
            status.waiting,
            status.max_size,
        )
    }

    /// The prefix every key of this deployment starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Borrows a connection from the pool.
    pub async fn conn(&self) -> Result<Conn, CacheError> {
        Ok(self.pool.get().await?)
    }

    /// A dedicated pub/sub connection subscribed to `channel` (prefixed);
    /// the stream ends when the connection is lost.
    pub async fn subscribe(
        &self,
        channel: &str,
    ) -> Result<impl futures_util::Stream<Item = redis::Msg> + use<>, CacheError> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(self.key(channel)).await?;
        Ok(pubsub.into_on_message())
    }

    /// Publishes `message` on `channel` (prefixed); returns the receivers.
    pub async fn publish(&self, channel: &str, message: &str) -> Result<i64, CacheError> {
        let mut conn = self.conn().await?;
        Ok(redis::cmd("PUBLISH")
            .arg(self.key(channel))
            .arg(message)
            .query_async(&mut conn)
            .await?)
    }

    /// Answers whether Redis serves commands right now.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TlsMode;

    #[test]
    fn tls_is_on_exactly_when_the_url_says_rediss() {
        let cases = [
            ("redis://127.0.0.1:6379", TlsMode::Plain),
            ("rediss://cache.example:6380", TlsMode::Tls),
            ("REDISS://cache.example:6380/0", TlsMode::Tls),
            ("redis://:rediss@127.0.0.1:6379", TlsMode::Plain),
            ("unix:///run/redis.sock", TlsMode::Plain),
        ];
        for (url, expected) in cases {
            assert_eq!(TlsMode::of_url(url), expected, "url {url}");
        }
    }
}
