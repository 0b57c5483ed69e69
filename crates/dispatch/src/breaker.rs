//! A circuit breaker for an outside provider (push, maps): after a run of
//! failures it lets nothing through for a while (callers wait or fall back
//! instead of hammering a provider that is down), then lets one probe
//! through; a success closes it. A provider's `Retry-After` pauses it too.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
}

/// The breaker of one provider on one instance.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

impl Breaker {
    /// Opens after `threshold` failures in a row, for `open_for`.
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Ok` when a call may go out now; otherwise how long the breaker
    /// stays open. Once the open time has passed, one call goes through
    /// (the probe) and the others wait another round.
    pub fn allow(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut state = self.state();
        match state.open_until {
            Some(until) if until > now => Err(until - now),
            Some(_) => {
                state.open_until = Some(now + self.open_for);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// A call went through: the breaker closes.
    pub fn succeeded(&self) {
        *self.state() = State::default();
    }

    /// A call failed (5xx, timeout, no connection).
    pub fn failed(&self) {
        let mut state = self.state();
        state.failures = state.failures.saturating_add(1);
        if state.failures >= self.threshold {
            state.open_until = Some(Instant::now() + self.open_for);
        }
    }

    /// The provider asked for quiet (`429` with `Retry-After`).
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut state = self.state();
        state.open_until = Some(state.open_until.map_or(until, |open| open.max(until)));
    }

    /// Whether it sends nothing now.
    pub fn is_open(&self) -> bool {
        self.state()
            .open_until
            .is_some_and(|until| until > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn it_opens_after_the_threshold_and_lets_one_probe_through_later() {
        let breaker = Breaker::new(3, Duration::from_secs(30));
        for _ in 0..2 {
            breaker.failed();
        }
        assert!(breaker.allow().is_ok(), "two failures keep it closed");
        breaker.failed();
        assert!(breaker.allow().is_err(), "the third opens it");
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(breaker.allow().is_ok(), "the probe goes through");
        assert!(breaker.allow().is_err(), "the others wait for the probe");
        breaker.succeeded();
        assert!(breaker.allow().is_ok(), "a success closes it");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_it() {
        let breaker = Breaker::new(5, Duration::from_secs(30));
        breaker.pause(Duration::from_secs(7));
        assert_eq!(breaker.allow(), Err(Duration::from_secs(7)));
        tokio::time::advance(Duration::from_secs(8)).await;
        assert!(breaker.allow().is_ok());
    }
}
