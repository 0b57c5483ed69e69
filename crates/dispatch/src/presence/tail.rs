//! The task that keeps this instance's presence in step with the others:
//! load the snapshot (online set and hashes), then tail the stream; on a
//! Redis error keep serving, and load the snapshot again once Redis answers
//! (merging, never clearing what this instance knows).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Presence;

/// Events read per call.
const BATCH: usize = 1_000;
/// How long to wait after a Redis error before trying again.
const RETRY: Duration = Duration::from_secs(1);
/// How often stale entries are dropped from memory.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

impl Presence {
    /// Loads the shared snapshot into this instance's view; returns the
    /// stream id to tail from.
    pub async fn load_snapshot(&self) -> Result<String, weelo_cache::CacheError> {
        let snapshot = self.cache.presence_snapshot().await?;
        for beat in snapshot.beats {
            self.apply(weelo_cache::presence::PresenceEvent::Beat(beat));
        }
        self.redis_ok.store(true, Ordering::Relaxed);
        Ok(snapshot.last_id)
    }

    /// Reads and applies what the stream has after `after`; returns the
    /// next id and how many events were applied.
    pub async fn tail_once(&self, after: &str) -> Result<(String, usize), weelo_cache::CacheError> {
        let (next, events) = self.cache.read_presence(after, BATCH).await?;
        let applied = events.len();
        for (origin, event) in events {
            if *origin != *self.origin {
                self.apply(event);
            }
        }
        Ok((next, applied))
    }

    /// Runs the loader and tailer under `supervisor` until shutdown.
    pub fn spawn_tail(&self, supervisor: &crate::supervisor::Supervisor) {
        let this = self.clone();
        let poll = Duration::from_millis(self.settings.stream_poll_ms.max(10));
        let stopping = supervisor.stopping();
        supervisor.spawn(async move {
            let mut position: Option<String> = None;
            let mut last_sweep = tokio::time::Instant::now();
            while !stopping.is_cancelled() {
                if last_sweep.elapsed() >= SWEEP_EVERY {
                    this.sweep();
                    last_sweep = tokio::time::Instant::now();
                }
                let step = match &position {
                    None => this.load_snapshot().await.map(|id| (id, 0)),
                    Some(after) => this.tail_once(after).await,
                };
                match step {
                    Ok((next, applied)) => {
                        if position.is_none() {
                            tracing::info!("presence snapshot loaded; tailing the stream");
                        }
                        this.redis_ok.store(true, Ordering::Relaxed);
                        position = Some(next);
                        if applied < BATCH {
                            tokio::select! {
                                () = stopping.cancelled() => {}
                                () = tokio::time::sleep(poll) => {}
                            }
                        }
                    }
                    Err(error) => {
                        if this.redis_ok.swap(false, Ordering::Relaxed) {
                            tracing::warn!(error = %error, "presence stream unavailable; will re-sync when redis answers");
                        }
                        // A restarted Redis starts its stream ids again: re-sync.
                        position = None;
                        tokio::select! {
                            () = stopping.cancelled() => {}
                            () = tokio::time::sleep(RETRY) => {}
                        }
                    }
                }
            }
        });
    }
}
