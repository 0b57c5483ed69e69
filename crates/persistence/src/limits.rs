//! Abuse limits kept in PostgreSQL, so that losing Redis never lifts them:
//! fixed-window counters (`rate_counters`: OTP sends and guesses per client
//! address, the global SMS budget) and the long-window lock on a phone that
//! keeps guessing wrong (`otp_lockouts`). Each check is one statement, so
//! parallel requests cannot slip past a limit.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A fixed-window limit: at most `max` hits per `window`.
#[derive(Debug, Clone, Copy)]
pub struct WindowLimit {
    /// Hits allowed in one window.
    pub max: i32,
    /// The window's length.
    pub window: Duration,
}

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = Integer)]
    hits: i32,
    #[diesel(sql_type = Timestamptz)]
    window_started_at: DateTime<Utc>,
}

/// Counts one hit on `key` and answers `Err(retry_after)` when the window
/// already had `limit.max` hits (the refused hit is counted too: it costs the
/// same to serve).
pub async fn hit(
    conn: &mut AsyncPgConnection,
    key: &str,
    limit: WindowLimit,
    now: DateTime<Utc>,
) -> QueryResult<Result<(), Duration>> {
    let counted: Hits = diesel::sql_query(
        "INSERT INTO rate_counters AS c (key, window_started_at, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
             hits = CASE WHEN c.window_started_at <= $3 THEN 1 ELSE c.hits + 1 END, \
             window_started_at = CASE WHEN c.window_started_at <= $3 THEN EXCLUDED.window_started_at \
                                      ELSE c.window_started_at END \
         RETURNING c.hits, c.window_started_at",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now - limit.window)
    .get_result(conn)
    .await?;
    if counted.hits <= limit.max {
        return Ok(Ok(()));
    }
    let left = counted.window_started_at + limit.window - now;
    Ok(Err(left.max(Duration::milliseconds(1))))
}

/// Takes back one hit of `key` (a counted action that did not happen).
pub async fn give_back(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<usize> {
    diesel::sql_query("UPDATE rate_counters SET hits = GREATEST(hits - 1, 0) WHERE key = $1")
        .bind::<Text, _>(key)
        .execute(conn)
        .await
}

/// Deletes counters whose window ended before `before`.
pub async fn prune_counters(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM rate_counters WHERE window_started_at < $1")
        .bind::<Timestamptz, _>(before)
        .execute(conn)
        .await
}

/// The long-window lock on wrong OTP guesses.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Wrong guesses within `window` that lock the phone.
    pub after_failures: i32,
    /// The window the failures are counted over.
    pub window: Duration,
    /// How long a lock lasts.
    pub lock: Duration,
}

#[derive(QueryableByName)]
struct LockedUntil {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
}

/// Until when `phone` is locked, if it is now. Locks the row for the rest of
/// the caller's transaction, so parallel guesses for one phone are counted
/// one after the other.
pub async fn locked_until(
    conn: &mut AsyncPgConnection,
    phone: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let row: Option<LockedUntil> =
        diesel::sql_query("SELECT locked_until FROM otp_lockouts WHERE phone = $1 FOR UPDATE")
            .bind::<Text, _>(phone)
            .get_result(conn)
            .await
            .optional()?;
    Ok(row
        .and_then(|row| row.locked_until)
        .filter(|until| *until > now))
}

/// Counts a wrong guess for `phone`; at the cap the phone is locked (and,
/// while the window lasts, every further wrong guess locks it again).
/// Returns the lock's end when this guess locked it.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    phone: &str,
    policy: LockoutPolicy,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let row: LockedUntil = diesel::sql_query(
        "INSERT INTO otp_lockouts AS l (phone, failures, window_started_at, locked_until) \
         VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5::timestamptz END) \
         ON CONFLICT (phone) DO UPDATE SET \
             failures = CASE WHEN l.window_started_at <= $3 THEN 1 ELSE l.failures + 1 END, \
             window_started_at = CASE WHEN l.window_started_at <= $3 THEN EXCLUDED.window_started_at \
                                      ELSE l.window_started_at END, \
             locked_until = CASE \
                 WHEN (CASE WHEN l.window_started_at <= $3 THEN 1 ELSE l.failures + 1 END) >= $4 \
                 THEN $5::timestamptz ELSE l.locked_until END \
         RETURNING l.locked_until",
    )
    .bind::<Text, _>(phone)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now - policy.window)
    .bind::<Integer, _>(policy.after_failures)
    .bind::<Timestamptz, _>(now + policy.lock)
    .get_result(conn)
    .await?;
    Ok(row.locked_until.filter(|until| *until > now))
}

/// A right guess clears the phone's count.
pub async fn clear_failures(conn: &mut AsyncPgConnection, phone: &str) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM otp_lockouts WHERE phone = $1")
        .bind::<Text, _>(phone)
        .execute(conn)
        .await
}

/// Deletes lock rows whose window and lock are both over.
pub async fn prune_lockouts(
    conn: &mut AsyncPgConnection,
    window_started_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM otp_lockouts WHERE window_started_at < $1 \
         AND (locked_until IS NULL OR locked_until < $2)",
    )
    .bind::<Timestamptz, _>(window_started_before)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
}
