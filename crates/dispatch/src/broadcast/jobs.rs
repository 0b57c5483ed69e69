//! The dispatch sweeper of each instance: every tick it runs the radius
//! steps that came due, times out the assignments whose driver did not
//! answer and, in a loop of its own, reports trips on the road that went
//! silent. Each claims its rows in PostgreSQL, so instances never do the
//! same work twice and nothing waits on the instance that started it.

use std::time::Duration;

use weelo_persistence::PersistenceError;

use crate::Dispatch;

/// The sweeper over one instance's state. Cheap to clone.
#[derive(Clone)]
pub struct DispatchJobs {
    state: Dispatch,
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Dispatch steps run.
    pub steps: usize,
    /// Assignments timed out.
    pub timed_out: usize,
    /// Trips on the road reported silent.
    pub silent: usize,
}

impl DispatchJobs {
    /// The sweeper over `state`.
    pub fn new(state: Dispatch) -> Self {
        Self { state }
    }

    /// This instance's tracking (tests look at what it keeps).
    pub fn tracking(&self) -> &crate::tracking::Tracking {
        &self.state.tracking
    }

    /// One sweep (tests call it with a moved clock).
    pub async fn sweep_once(&self) -> Result<SweepReport, PersistenceError> {
        let mut report = self.sweep_dispatch().await?;
        report.silent = crate::tracking::watch::sweep_silent(&self.state).await?;
        Ok(report)
    }

    /// Radius steps and driver timeouts, the part of a sweep that must
    /// keep its pace whatever the watchdog's page count or Redis's health.
    pub async fn sweep_dispatch(&self) -> Result<SweepReport, PersistenceError> {
        let timed_out = crate::assignments::sweep_unanswered(&self.state).await?;
        let steps = super::steps::run_due(&self.state).await?;
        Ok(SweepReport {
            steps,
            timed_out,
            silent: 0,
        })
    }

    /// Deletes orphaned uploads and documents past their retention, and
    /// warns of vehicle documents about to expire (run by its own loop;
    /// tests call it by hand); returns (orphans, retired, warned).
    pub async fn sweep_documents(&self) -> Result<(usize, usize, usize), crate::DispatchError> {
        let orphans = crate::documents::sweep_orphans(&self.state).await?;
        let retired = crate::documents::sweep_retired(&self.state).await?;
        let warned = crate::documents::vehicles::warn_expiring(&self.state).await?;
        Ok((orphans, retired, warned))
    }

    /// Starts the loops under `supervisor` (off when the sweep interval is
    /// 0): dispatch steps and driver timeouts in one, the silence watchdog
    /// in its own, so a watchdog pass over many trips, or waiting on a slow
    /// Redis, never holds a step or a timeout back.
    pub fn spawn_loop(&self, supervisor: &crate::supervisor::Supervisor) {
        let interval = self.state.orders.sweep_interval_ms;
        if interval == 0 {
            return;
        }
        let every = Duration::from_millis(interval);
        let this = self.clone();
        supervisor.spawn_every("dispatch_sweep", every, move || {
            let this = this.clone();
            async move {
                if let Err(error) = this.sweep_dispatch().await {
                    tracing::warn!(error = %error, "dispatch sweep failed; retrying next tick");
                }
            }
        });
        // Uploads: a quarter of the orphan age (at least a minute).
        let documents_every = Duration::from_secs(
            u64::try_from(self.state.storage.settings().orphan_after_secs / 4)
                .unwrap_or(0)
                .max(60),
        );
        let this = self.clone();
        supervisor.spawn_every("documents_sweep", documents_every, move || {
            let this = this.clone();
            async move {
                if let Err(error) = this.sweep_documents().await {
                    tracing::warn!(error = %error, "documents sweep failed; retrying next run");
                }
            }
        });
        let state = self.state.clone();
        supervisor.spawn_every("silence_watchdog", every, move || {
            let state = state.clone();
            async move {
                if let Err(error) = crate::tracking::watch::sweep_silent(&state).await {
                    tracing::warn!(error = %error, "silence watchdog failed; retrying next tick");
                }
            }
        });
    }
}
