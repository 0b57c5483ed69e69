//! The push workers: claim due jobs (any instance's, `SKIP LOCKED`, under a
//! lease), skip users who hear events on a live socket, read the tokens,
//! send to every token at once (bounded), and settle each job in one
//! statement per kind: delete it, delete the tokens the provider said are
//! gone, or give it the tokens still owed and a later time (exponential
//! backoff with jitter, never sooner than `Retry-After`) until its
//! deadline, when it is dropped and counted. No connection is held while a
//! send is in flight, so a slow provider never slows the requests.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use uuid::Uuid;
use weelo_persistence::PersistenceError;
use weelo_persistence::push_jobs::{self, ClaimedPush, Retry};

use super::sender::Sent;
use crate::Dispatch;
use crate::events::push::{PushMessage, Source, message};

/// One job's send: its tokens and its message.
struct Plan {
    job: ClaimedPush,
    tokens: Vec<String>,
    message: Arc<PushMessage>,
}

/// What a pass decided, written at its end.
#[derive(Default)]
struct Settled {
    finished: Vec<i64>,
    retries: Vec<Retry>,
    gone_tokens: Vec<String>,
}

/// Claims and sends one batch of due jobs; returns how many were claimed.
pub async fn send_due(state: &Dispatch) -> Result<usize, PersistenceError> {
    let push = &state.push;
    let settings = &push.settings;
    let now = state.clock.now();
    let lease = chrono::Duration::seconds(i64::try_from(settings.lease_secs).unwrap_or(30));
    let claimed = {
        let mut conn = state.conn().await?;
        push_jobs::claim(&mut conn, now, now + lease, settings.batch.max(1)).await?
    };
    let count = claimed.len();
    if count == 0 {
        return Ok(0);
    }
    let deadline = chrono::Duration::from_std(settings.deadline()).unwrap_or(chrono::Duration::MAX);
    let mut settled = Settled::default();
    let (late, fresh): (Vec<_>, Vec<_>) = claimed
        .into_iter()
        .partition(|job| now - job.created_at > deadline);
    for job in late {
        push.metrics.dropped.with_label_values(&[&job.topic]).inc();
        tracing::warn!(push.job = job.id, event.topic = %job.topic, "push dropped at its deadline");
        settled.finished.push(job.id);
    }
    let plans = plan(state, fresh, now, &mut settled).await?;
    let results = send_all(state, &plans).await;
    settle(state, &plans, results, now, deadline, &mut settled);
    let mut conn = state.conn().await?;
    let pruned = push_jobs::forget_tokens(&mut conn, &settled.gone_tokens).await?;
    push.metrics
        .tokens_pruned
        .inc_by(u64::try_from(pruned).unwrap_or(0));
    push_jobs::finish(&mut conn, &settled.finished).await?;
    push_jobs::retry(&mut conn, &settled.retries).await?;
    Ok(count)
}

/// Who gets what: first attempts of users with a live socket are skipped,
/// the users' tokens and languages read, each job's message written.
async fn plan(
    state: &Dispatch,
    jobs: Vec<ClaimedPush>,
    now: DateTime<Utc>,
    settled: &mut Settled,
) -> Result<Vec<Plan>, PersistenceError> {
    let push = &state.push;
    let first: Vec<Uuid> = jobs
        .iter()
        .filter(|job| job.tokens.is_none())
        .map(|job| job.user_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let live: HashSet<Uuid> = match push.live.live(&first).await {
        Some(flags) => first
            .iter()
            .zip(flags)
            .filter_map(|(user, live)| live.then_some(*user))
            .collect(),
        None => HashSet::new(),
    };
    let users: Vec<Uuid> = jobs
        .iter()
        .map(|job| job.user_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let recipients = {
        let mut conn = state.conn().await?;
        push_jobs::recipients(&mut conn, &users).await?
    };
    let mut plans = Vec::with_capacity(jobs.len());
    for job in jobs {
        let skip = |reason: &str, settled: &mut Settled| {
            push.metrics.skipped.with_label_values(&[reason]).inc();
            settled.finished.push(job.id);
        };
        if job.tokens.is_none() && live.contains(&job.user_id) {
            skip("live_socket", settled);
            continue;
        }
        let recipient = recipients.get(&job.user_id);
        let owed = job
            .tokens
            .clone()
            .or_else(|| recipient.map(|r| r.tokens.clone()))
            .unwrap_or_default();
        if owed.is_empty() {
            skip("no_token", settled);
            continue;
        }
        let source = Source {
            topic: &job.topic,
            payload: &job.payload,
            event_id: job.event_id,
            room: &job.room,
            language: recipient.and_then(|r| r.language.as_deref()),
        };
        let Some(message) = message(source, now, push.settings.normal_ttl()) else {
            skip("window_closed", settled);
            continue;
        };
        plans.push(Plan {
            job,
            tokens: owed,
            message: Arc::new(message),
        });
    }
    Ok(plans)
}

/// Sends every plan's message to each of its tokens, a bounded number at
/// once: (plan, token, outcome).
async fn send_all(state: &Dispatch, plans: &[Plan]) -> Vec<(usize, String, Sent)> {
    let push = &state.push;
    // Owned, so the sends borrow nothing across their await points.
    let sends: Vec<(usize, String, Arc<PushMessage>)> = plans
        .iter()
        .enumerate()
        .flat_map(|(at, plan)| {
            plan.tokens
                .iter()
                .map(move |token| (at, token.clone(), plan.message.clone()))
        })
        .collect();
    let sender = push.sender.clone();
    let latency = push.metrics.provider_latency.clone();
    futures_util::stream::iter(sends)
        .map(move |(at, token, message)| {
            let sender = sender.clone();
            let latency = latency.clone();
            async move {
                let started = tokio::time::Instant::now();
                let sent = sender.send(&token, &message).await;
                latency.observe(started.elapsed().as_secs_f64());
                (at, token, sent)
            }
        })
        .buffer_unordered(push.settings.concurrency.max(1))
        .collect()
        .await
}

/// Sorts the outcomes into what the pass writes.
fn settle(
    state: &Dispatch,
    plans: &[Plan],
    results: Vec<(usize, String, Sent)>,
    now: DateTime<Utc>,
    deadline: chrono::Duration,
    settled: &mut Settled,
) {
    let push = &state.push;
    let mut owed: Vec<(Vec<String>, Option<Duration>)> = vec![(Vec::new(), None); plans.len()];
    for (at, token, sent) in results {
        let kind = plans[at].message.kind.as_str();
        match sent {
            Sent::Delivered => {
                push.metrics.sent.with_label_values(&[kind]).inc();
                let waited = state.clock.now() - plans[at].job.created_at;
                push.metrics
                    .delivery_latency
                    .observe(waited.to_std().unwrap_or_default().as_secs_f64());
            }
            Sent::TokenGone => settled.gone_tokens.push(token),
            Sent::Retry { after } => {
                let (tokens, asked) = &mut owed[at];
                tokens.push(token);
                *asked = (*asked).max(after);
            }
            Sent::Failed(reason) => {
                push.metrics.failed.with_label_values(&[kind]).inc();
                tracing::warn!(push.kind = kind, reason = %reason, "push refused by the provider; dropped");
            }
        }
    }
    for (plan, (tokens, asked)) in plans.iter().zip(owed) {
        let job = &plan.job;
        if tokens.is_empty() {
            settled.finished.push(job.id);
            continue;
        }
        let kind = plan.message.kind.as_str();
        let jitter = 0.5 + rand::random::<f64>() / 2.0;
        let wait = push.settings.backoff(job.attempts, jitter, asked);
        let due_at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        if due_at - job.created_at > deadline {
            push.metrics.dropped.with_label_values(&[kind]).inc();
            tracing::warn!(
                push.job = job.id,
                push.kind = kind,
                attempts = job.attempts,
                "push dropped: its deadline passes before the next attempt"
            );
            settled.finished.push(job.id);
        } else {
            push.metrics.retried.with_label_values(&[kind]).inc();
            settled.retries.push(Retry {
                id: job.id,
                tokens,
                due_at,
            });
        }
    }
}

/// Runs the workers of this instance until shutdown: a pass whenever a
/// commit here wakes them, or every `poll_interval_ms` for the jobs of
/// other instances and the retries that fell due.
pub fn spawn(state: &Dispatch) {
    if !state.push.settings.workers {
        return;
    }
    let supervisor = state.supervisor.clone();
    let stopping = supervisor.stopping();
    let state = state.clone();
    let batch = usize::try_from(state.push.settings.batch.max(1)).unwrap_or(1);
    let poll = Duration::from_millis(state.push.settings.poll_interval_ms.max(10));
    supervisor.spawn(async move {
        loop {
            loop {
                match send_due(&state).await {
                    Ok(claimed) if claimed >= batch => {}
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(error = %error, "push pass failed; retrying");
                        break;
                    }
                }
            }
            tokio::select! {
                () = stopping.cancelled() => break,
                () = state.push.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    });
}
