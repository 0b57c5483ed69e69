//! What an operator watches besides requests, read when `/metrics` is
//! scraped: the PostgreSQL and Redis pools (saturation), the outbox the
//! relay has not published yet (its lag), and when each background loop
//! last finished a pass (a stalled sweeper). See `deploy/prometheus/` for
//! the alerts over them.

use crate::Dispatch;

/// A pool's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolFigures {
    /// Connections open.
    pub size: usize,
    /// Of them, idle.
    pub idle: usize,
    /// Callers waiting for one.
    pub waiting: usize,
    /// The most the pool opens.
    pub max: usize,
}

/// The figures of one scrape.
#[derive(Debug, Clone, Default)]
pub struct Vitals {
    /// PostgreSQL's pool.
    pub database_pool: PoolFigures,
    /// Redis's pool.
    pub redis_pool: PoolFigures,
    /// Events written but not yet published, and the oldest one's age in
    /// seconds (`None` when the outbox could not be read).
    pub outbox: Option<(i64, f64)>,
    /// Each background loop and when it last finished a pass (Unix s).
    pub loops: Vec<(&'static str, f64)>,
}

/// Reads the figures now.
pub async fn read(state: &Dispatch) -> Vitals {
    let status = state.db.status();
    let database_pool = PoolFigures {
        size: status.size,
        idle: status.available,
        waiting: status.waiting,
        max: status.max_size,
    };
    let (size, idle, waiting, max) = state.cache.pool_figures();
    let outbox = match state.conn().await {
        Ok(mut conn) => match weelo_persistence::outbox::backlog(&mut conn).await {
            Ok((count, oldest)) => {
                let age = oldest.map_or(0.0, |at| {
                    (state.clock.now() - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                Some((count, age))
            }
            Err(error) => {
                tracing::warn!(%error, "reading the outbox backlog for /metrics failed");
                None
            }
        },
        Err(error) => {
            tracing::warn!(%error, "no connection to read the outbox backlog for /metrics");
            None
        }
    };
    Vitals {
        database_pool,
        redis_pool: PoolFigures {
            size,
            idle,
            waiting,
            max,
        },
        outbox,
        loops: state.supervisor.last_passes(),
    }
}
