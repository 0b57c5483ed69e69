//! The `[orders]` section: the search window, the create limit and the
//! expiry jobs' rhythm.

use serde::Deserialize;

/// Order settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSettings {
    /// How long an order searches before it expires (the apps read `expiresIn`).
    pub search_window_secs: i64,
    /// Most creates per customer per minute (replays do not count).
    pub creates_per_minute: u32,
    /// How often each instance's sweeper looks for orders past their window.
    /// `0` turns the loop off (tests run sweeps themselves).
    pub sweep_interval_ms: u64,
    /// How often the cleanup job runs (the backstop); `0` turns it off.
    pub cleanup_interval_secs: u64,
    /// Most orders one sweep expires (the rest wait for the next tick).
    pub sweep_batch: i64,
    /// Published outbox rows older than this are pruned by the cleanup job.
    pub outbox_retention_hours: i64,
    /// Idempotency answers older than this are pruned by the cleanup job.
    pub idempotency_retention_hours: i64,
    /// The dispatch radius of each step, in km, widening.
    pub radius_steps_km: Vec<f64>,
    /// When each step starts, in seconds after the order (same length).
    pub radius_step_secs: Vec<i64>,
    /// Most transporters told per vehicle key in one step.
    pub broadcast_per_key: usize,
    /// How long a hold lasts, capped by the order's remaining time.
    pub hold_secs: i64,
    /// How long a driver has to answer an assignment.
    pub driver_answer_secs: i64,
    /// Most orders written by one create statement (creates that arrive
    /// together share it); 1 writes every order alone.
    pub create_batch_max: usize,
    /// Most create statements in flight at once on this instance; creates
    /// that arrive while all are busy wait and go together in the next.
    pub create_batches_in_flight: usize,
    /// Most dispatch steps one sweep runs at once.
    pub steps_in_flight: usize,
}

impl OrderSettings {
    /// The radius of the step due `elapsed_secs` after the order was made
    /// (the widest step already started), in metres.
    pub fn radius_at(&self, elapsed_secs: i64) -> f64 {
        self.radius_steps_km
            .get(self.steps_started(elapsed_secs) - 1)
            .copied()
            .unwrap_or(5.0)
            * 1000.0
    }

    /// The step number (1-based) due `elapsed_secs` after the order.
    pub fn step_at(&self, elapsed_secs: i64) -> i32 {
        i32::try_from(self.steps_started(elapsed_secs)).unwrap_or(i32::MAX)
    }

    /// How many steps have started `elapsed_secs` after the order (at least 1).
    fn steps_started(&self, elapsed_secs: i64) -> usize {
        self.radius_step_secs
            .iter()
            .take_while(|start| **start <= elapsed_secs)
            .count()
            .max(1)
    }

    /// When the step after the one due at `elapsed_secs` starts, in seconds
    /// after the order; `None` after the last.
    pub fn next_step_secs(&self, elapsed_secs: i64) -> Option<i64> {
        self.radius_step_secs
            .iter()
            .copied()
            .find(|start| *start > elapsed_secs)
    }

    /// Whether the steps are well formed (same lengths, widening, from 0).
    pub fn steps_are_valid(&self) -> bool {
        !self.radius_steps_km.is_empty()
            && self.radius_steps_km.len() == self.radius_step_secs.len()
            && self.radius_step_secs.first() == Some(&0)
            && self.radius_steps_km.windows(2).all(|w| w[0] < w[1])
            && self.radius_step_secs.windows(2).all(|w| w[0] < w[1])
            && self
                .radius_steps_km
                .iter()
                .all(|km| *km > 0.0 && km.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OrderSettings {
        OrderSettings {
            search_window_secs: 60,
            creates_per_minute: 5,
            sweep_interval_ms: 0,
            cleanup_interval_secs: 0,
            sweep_batch: 10,
            outbox_retention_hours: 1,
            idempotency_retention_hours: 1,
            radius_steps_km: vec![5.0, 10.0, 15.0, 30.0, 60.0, 100.0],
            radius_step_secs: vec![0, 8, 16, 24, 32, 40],
            broadcast_per_key: 20,
            hold_secs: 180,
            driver_answer_secs: 45,
            create_batch_max: 32,
            create_batches_in_flight: 4,
            steps_in_flight: 8,
        }
    }

    #[test]
    fn steps_widen_on_schedule_and_stop_after_the_last() {
        let s = settings();
        assert!(s.steps_are_valid());
        assert_eq!((s.step_at(0), s.radius_at(0)), (1, 5_000.0));
        assert_eq!((s.step_at(7), s.radius_at(7)), (1, 5_000.0));
        assert_eq!((s.step_at(8), s.radius_at(8)), (2, 10_000.0));
        assert_eq!((s.step_at(33), s.radius_at(33)), (5, 60_000.0));
        assert_eq!((s.step_at(59), s.radius_at(59)), (6, 100_000.0));
        assert_eq!(s.next_step_secs(0), Some(8));
        assert_eq!(s.next_step_secs(8), Some(16));
        assert_eq!(s.next_step_secs(40), None);
        let mut bad = settings();
        bad.radius_step_secs = vec![0, 8, 8, 24, 32, 40];
        assert!(!bad.steps_are_valid());
        bad.radius_step_secs = vec![0, 8];
        assert!(!bad.steps_are_valid());
    }
}
