//! [`Supervisor`]: the owner of an instance's background work (the relay
//! and its subscriber, the sweepers, the cleanup job, the presence tail,
//! the history and presence writers). Shutdown cancels every loop, lets the
//! work in flight finish (a sweep under way, a batch of GPS points queued),
//! and waits for all of it, up to a grace period. Each named loop notes
//! when its last pass finished ([`Supervisor::last_passes`]), which
//! `/metrics` shows so a stalled sweeper raises an alert.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Starts background tasks and stops them together. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Supervisor {
    token: CancellationToken,
    tracker: TaskTracker,
    passes: Arc<Mutex<BTreeMap<&'static str, f64>>>,
}

impl Supervisor {
    /// A supervisor with nothing running.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` until it returns; shutdown waits for it. Loops watch
    /// [`Supervisor::stopping`] and return when it fires.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// Notes that loop `name` finished a pass now (wall time).
    pub fn passed(&self, name: &'static str) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, now);
    }

    /// When each named loop last finished a pass (Unix seconds).
    pub fn last_passes(&self) -> Vec<(&'static str, f64)> {
        self.passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, at)| (*name, *at))
            .collect()
    }

    /// Runs `pass` every `every` (a late tick waits, never bunches) until
    /// shutdown, noting each finished pass under `name`; a pass under way
    /// finishes first.
    pub fn spawn_every<F, Fut>(&self, name: &'static str, every: Duration, mut pass: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let stopping = self.stopping();
        let this = self.clone();
        self.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    () = stopping.cancelled() => break,
                    _ = tick.tick() => {}
                }
                pass().await;
                this.passed(name);
            }
        });
    }

    /// Fires when shutdown begins: a loop finishes the pass it is in and
    /// returns.
    pub fn stopping(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Tasks still running.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }

    /// Stops every loop and waits for the work in flight, at most `grace`;
    /// `true` when everything finished in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.token.cancel();
        self.tracker.close();
        let finished = tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok();
        if finished {
            tracing::info!("background work stopped");
        } else {
            tracing::warn!(
                tasks = self.tracker.len(),
                grace_ms = grace.as_millis(),
                "background work still running after the grace period"
            );
        }
        finished
    }
}

/// A queue a writer drains: bounded or unbounded tokio channels.
pub trait Queue<T>: Send {
    /// Refuses new items; those already queued stay.
    fn close(&mut self);
    /// The next item, `None` once closed and empty.
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send;
}

impl<T: Send> Queue<T> for mpsc::Receiver<T> {
    fn close(&mut self) {
        mpsc::Receiver::close(self);
    }
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        mpsc::Receiver::recv(self)
    }
}

impl<T: Send> Queue<T> for mpsc::UnboundedReceiver<T> {
    fn close(&mut self) {
        mpsc::UnboundedReceiver::close(self);
    }
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        mpsc::UnboundedReceiver::recv(self)
    }
}

/// The next item of a writer's `queue`; once shutdown begins the queue is
/// closed and what it still holds is handed out before `None`, so nothing
/// queued is lost.
pub async fn next_until_stopped<T>(
    queue: &mut impl Queue<T>,
    stopping: &CancellationToken,
) -> Option<T> {
    if !stopping.is_cancelled() {
        tokio::select! {
            biased;
            item = queue.recv() => return item,
            () = stopping.cancelled() => {}
        }
    }
    queue.close();
    queue.recv().await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::Supervisor;

    #[tokio::test]
    async fn shutdown_stops_loops_and_waits_for_the_pass_in_flight() {
        let supervisor = Supervisor::new();
        let finished_pass = Arc::new(AtomicBool::new(false));
        let stopping = supervisor.stopping();
        let (started, mut started_rx) = tokio::sync::mpsc::channel(1);
        let flag = finished_pass.clone();
        supervisor.spawn(async move {
            loop {
                let _ = started.send(()).await;
                // A pass that takes a while: shutdown must wait for it.
                tokio::time::sleep(Duration::from_millis(50)).await;
                flag.store(true, Ordering::SeqCst);
                tokio::select! {
                    () = stopping.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_secs(3600)) => {}
                }
            }
        });
        started_rx.recv().await;
        assert_eq!(supervisor.running(), 1);
        assert!(supervisor.shutdown(Duration::from_secs(5)).await);
        assert!(
            finished_pass.load(Ordering::SeqCst),
            "the pass in flight finished"
        );
        assert_eq!(supervisor.running(), 0);
        assert!(supervisor.is_stopping());
    }

    #[tokio::test]
    async fn a_writer_hands_out_what_was_queued_before_it_stops() {
        let (queue, mut rx) = tokio::sync::mpsc::channel(8);
        for n in 0..3 {
            queue.try_send(n).unwrap();
        }
        let stopping = tokio_util::sync::CancellationToken::new();
        stopping.cancel();
        let mut drained = Vec::new();
        while let Some(n) = super::next_until_stopped(&mut rx, &stopping).await {
            drained.push(n);
        }
        assert_eq!(drained, vec![0, 1, 2]);
        assert!(
            queue.try_send(3).is_err(),
            "the queue is closed once stopped"
        );
    }

    #[tokio::test]
    async fn a_task_that_ignores_shutdown_is_reported_after_the_grace_period() {
        let supervisor = Supervisor::new();
        supervisor.spawn(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        assert!(!supervisor.shutdown(Duration::from_millis(20)).await);
        assert_eq!(supervisor.running(), 1);
    }
}
