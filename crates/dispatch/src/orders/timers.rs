//! The precise per-order timers of one instance: one task keeps every armed
//! deadline in a heap and fires each when it comes. A sleeping task per
//! order cost a task allocation of a few KiB each: 120 000 of them at
//! 2 000 orders a second with a 60 s window.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;

use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::supervisor::Supervisor;

/// A set of timers that call one function with the id they were armed for.
/// Shutdown drops the timers not yet due: the sweeper of any instance
/// expires those orders.
#[derive(Debug, Default)]
pub struct Timers {
    armed: OnceLock<mpsc::UnboundedSender<(Instant, Uuid)>>,
    supervisor: Supervisor,
}

impl Timers {
    /// Timers whose task runs under `supervisor`.
    pub fn new(supervisor: &Supervisor) -> Self {
        Self {
            armed: OnceLock::new(),
            supervisor: supervisor.clone(),
        }
    }

    /// Arms a timer for `id` at `at`. The first call starts the timer task
    /// (so it must run inside the tokio runtime), which then calls `fire`
    /// for every timer that comes due, in deadline order.
    pub fn arm<F>(&self, at: Instant, id: Uuid, fire: impl FnOnce() -> F)
    where
        F: FnMut(Uuid) + Send + 'static,
    {
        let armed = self.armed.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            self.supervisor
                .spawn(run(receiver, fire(), self.supervisor.stopping()));
            sender
        });
        if armed.send((at, id)).is_err() {
            // Only when the runtime is going down; the sweeper remains.
            tracing::debug!(timer.id = %id, "timer task gone; the timer is left to the sweeper");
        }
    }
}

/// The timer task: ends at shutdown or when every sender is gone.
async fn run(
    mut armed: mpsc::UnboundedReceiver<(Instant, Uuid)>,
    mut fire: impl FnMut(Uuid),
    stopping: CancellationToken,
) {
    let mut due: BinaryHeap<Reverse<(Instant, Uuid)>> = BinaryHeap::new();
    let sleep = tokio::time::sleep_until(Instant::now());
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = stopping.cancelled() => return,
            entry = armed.recv() => {
                let Some(entry) = entry else { return };
                due.push(Reverse(entry));
                while let Ok(entry) = armed.try_recv() {
                    due.push(Reverse(entry));
                }
                aim(sleep.as_mut(), &due);
            }
            () = &mut sleep, if !due.is_empty() => {
                let now = Instant::now();
                while let Some(&Reverse((at, id))) = due.peek() {
                    if at > now {
                        break;
                    }
                    due.pop();
                    fire(id);
                }
                aim(sleep.as_mut(), &due);
            }
        }
    }
}

/// Points the sleep at the earliest deadline (if any).
fn aim(sleep: std::pin::Pin<&mut Sleep>, due: &BinaryHeap<Reverse<(Instant, Uuid)>>) {
    if let Some(&Reverse((at, _))) = due.peek()
        && sleep.deadline() != at
    {
        sleep.reset(at);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn timers_fire_once_each_in_deadline_order_and_not_before() {
        let timers = Timers::default();
        let (sender, mut fired) = mpsc::unbounded_channel();
        let start = Instant::now();
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        for (id, secs) in ids.iter().zip([30, 10, 60, 10]) {
            let sender = sender.clone();
            timers.arm(start + Duration::from_secs(secs), *id, move || {
                move |id| sender.send((id, Instant::now())).unwrap()
            });
        }
        drop(sender);
        tokio::time::sleep(Duration::from_secs(9)).await;
        assert!(fired.try_recv().is_err(), "nothing is due before 10 s");
        let mut order = Vec::new();
        for _ in 0..4 {
            let (id, at) = fired.recv().await.unwrap();
            let secs = (at - start).as_secs();
            order.push((id, secs));
        }
        let by_deadline: Vec<u64> = order.iter().map(|(_, secs)| *secs).collect();
        assert_eq!(by_deadline, vec![10, 10, 30, 60]);
        assert_eq!(order[2].0, ids[0]);
        assert_eq!(order[3].0, ids[2]);
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert!(fired.try_recv().is_err(), "each timer fires once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_armed_earlier_than_the_next_one_moves_the_wake_up() {
        let timers = Timers::default();
        let (sender, mut fired) = mpsc::unbounded_channel();
        let start = Instant::now();
        let (late, early) = (Uuid::new_v4(), Uuid::new_v4());
        let make = |sender: mpsc::UnboundedSender<Uuid>| move || move |id| sender.send(id).unwrap();
        timers.arm(start + Duration::from_secs(50), late, make(sender.clone()));
        tokio::time::sleep(Duration::from_secs(1)).await;
        timers.arm(start + Duration::from_secs(5), early, make(sender.clone()));
        assert_eq!(fired.recv().await.unwrap(), early);
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
        assert_eq!(fired.recv().await.unwrap(), late);
        assert_eq!(Instant::now() - start, Duration::from_secs(50));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_stops_the_timer_task_and_drops_what_is_not_due() {
        let supervisor = Supervisor::new();
        let timers = Timers::new(&supervisor);
        let (sender, mut fired) = mpsc::unbounded_channel();
        timers.arm(
            Instant::now() + Duration::from_secs(10),
            Uuid::new_v4(),
            move || move |id| sender.send(id).unwrap(),
        );
        assert_eq!(supervisor.running(), 1);
        assert!(supervisor.shutdown(Duration::from_secs(1)).await);
        assert_eq!(supervisor.running(), 0);
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(
            fired.recv().await.is_none(),
            "a timer not yet due never fires after shutdown"
        );
    }
}
