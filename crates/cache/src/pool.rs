//! The Redis connection pool. Its connections are multiplexed, so a busy
//! instance keeps reusing a few of them; deadpool-redis checks each one
//! with a `PING` every time it is handed out, a second round trip for every
//! command. Here a connection is checked only when it has been idle longer
//! than `verify_idle_after`, or when any command failed for a lost
//! connection since it was last handed out (Redis restarted: every pooled
//! connection is then suspect, and the broken ones are replaced before use).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, Object, RecycleResult};
use deadpool_redis::redis::aio::{ConnectionLike, MultiplexedConnection};
use deadpool_redis::redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

/// Opens connections through deadpool-redis and decides when to check them.
pub struct RedisManager {
    inner: deadpool_redis::Manager,
    verify_idle_after: Duration,
    /// What `failed_at_ns` counts from.
    epoch: Instant,
    /// When a command last failed for a lost connection, in nanoseconds
    /// after `epoch` (0: never).
    failed_at_ns: AtomicU64,
}

impl RedisManager {
    /// A manager over `inner` that checks connections idle longer than
    /// `verify_idle_after`.
    pub fn new(inner: deadpool_redis::Manager, verify_idle_after: Duration) -> Self {
        Self {
            inner,
            verify_idle_after,
            epoch: Instant::now(),
            failed_at_ns: AtomicU64::new(0),
        }
    }

    /// Records that a command failed for a lost connection, now.
    fn note_failure(&self) {
        let nanos = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.failed_at_ns.store(nanos.max(1), Ordering::Relaxed);
    }

    /// Whether a command failed for a lost connection at or after `since`.
    fn failed_since(&self, since: Instant) -> bool {
        match self.failed_at_ns.load(Ordering::Relaxed) {
            0 => false,
            nanos => self.epoch + Duration::from_nanos(nanos) >= since,
        }
    }

    /// Whether `metrics`' connection may be handed out without a check.
    fn trusts(&self, metrics: &Metrics) -> bool {
        let handed_out = metrics.recycled.unwrap_or(metrics.created);
        metrics.last_used() < self.verify_idle_after && !self.failed_since(handed_out)
    }
}

impl managed::Manager for RedisManager {
    type Type = MultiplexedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<MultiplexedConnection, RedisError> {
        managed::Manager::create(&self.inner).await
    }

    async fn recycle(
        &self,
        conn: &mut MultiplexedConnection,
        metrics: &Metrics,
    ) -> RecycleResult<RedisError> {
        if self.trusts(metrics) {
            return Ok(());
        }
        managed::Manager::recycle(&self.inner, conn, metrics).await
    }
}

/// The pool of [`Conn`]s.
pub type RedisPool = managed::Pool<RedisManager, Conn>;

/// A pooled connection; a command that fails for a lost connection makes
/// the pool check every connection before handing it out again.
pub struct Conn {
    inner: Object<RedisManager>,
}

impl From<Object<RedisManager>> for Conn {
    fn from(inner: Object<RedisManager>) -> Self {
        Self { inner }
    }
}

impl Conn {
    fn watch<T>(&self, result: &Result<T, RedisError>) {
        if let Err(error) = result
            && (error.is_io_error()
                || error.is_connection_dropped()
                || error.is_unrecoverable_error()
                || error.is_timeout())
            && let Some(pool) = Object::pool(&self.inner)
        {
            pool.manager().note_failure();
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = self.inner.req_packed_command(cmd).await;
            self.watch(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = self
                .inner
                .req_packed_commands(pipeline, offset, count)
                .await;
            self.watch(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
