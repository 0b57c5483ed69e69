//! OTP challenges: issuing one under the resend cooldown and the send limit,
//! and checking a guess under the attempt limit, each in one statement or
//! transaction so concurrent requests cannot slip past a limit.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::otp_challenges;

/// A row of `otp_challenges`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = otp_challenges, check_for_backend(diesel::pg::Pg))]
pub struct OtpChallenge {
    /// The phone the OTP is for.
    pub phone: String,
    /// What it is for: `customer`, `transporter`, `driver_login`, `driver_onboard`.
    pub purpose: String,
    /// Keyed hash of the live OTP; `None` once used.
    pub otp_hash: Option<String>,
    /// Wrong guesses so far.
    pub attempts: i32,
    /// When the OTP dies.
    pub expires_at: DateTime<Utc>,
    /// Last send.
    pub last_sent_at: DateTime<Utc>,
    /// Start of the current send-limit window.
    pub window_started_at: DateTime<Utc>,
    /// Sends in that window.
    pub sends_in_window: i32,
    /// Who asked (driver onboarding: the transporter).
    pub requested_by: Option<Uuid>,
    /// Details to act on once verified (driver onboarding).
    pub pending_profile: Option<serde_json::Value>,
}

/// The limits an issue is checked against.
#[derive(Debug, Clone, Copy)]
pub struct SendLimits {
    /// How long an OTP lives.
    pub ttl: Duration,
    /// Least time between two sends.
    pub cooldown: Duration,
    /// The send-limit window.
    pub window: Duration,
    /// Most sends in one window.
    pub max_sends: i32,
}

/// A new OTP to store.
#[derive(Debug)]
pub struct IssueRequest<'a> {
    /// The phone it is for.
    pub phone: &'a str,
    /// Its purpose.
    pub purpose: &'a str,
    /// Keyed hash of the OTP.
    pub otp_hash: &'a str,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Details to keep until verification.
    pub pending_profile: Option<serde_json::Value>,
}

/// Why an OTP was not issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// The last send was too recent.
    Cooldown {
        /// Until the next send may go.
        retry_after: Duration,
    },
    /// The window's sends are used up.
    SendLimit {
        /// Until the window ends.
        retry_after: Duration,
    },
}

#[derive(QueryableByName)]
struct Expiry {
    #[diesel(sql_type = Timestamptz)]
    expires_at: DateTime<Utc>,
}

/// Stores a new OTP (replacing any earlier one and resetting its attempts)
/// unless the cooldown or the send limit forbids it. Returns its expiry.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    request: &IssueRequest<'_>,
    limits: SendLimits,
    now: DateTime<Utc>,
) -> QueryResult<Result<DateTime<Utc>, Throttle>> {
    let issued: Option<Expiry> = diesel::sql_query(
        "INSERT INTO otp_challenges AS c (phone, purpose, otp_hash, attempts, expires_at, \
             last_sent_at, window_started_at, sends_in_window, requested_by, pending_profile) \
         VALUES ($1, $2, $3, 0, $4, $5, $5, 1, $6, $7) \
         ON CONFLICT (phone, purpose) DO UPDATE SET \
             otp_hash = EXCLUDED.otp_hash, attempts = 0, expires_at = EXCLUDED.expires_at, \
             last_sent_at = EXCLUDED.last_sent_at, \
             window_started_at = CASE WHEN c.window_started_at <= $8 THEN EXCLUDED.last_sent_at \
                                      ELSE c.window_started_at END, \
             sends_in_window = CASE WHEN c.window_started_at <= $8 THEN 1 \
                                    ELSE c.sends_in_window + 1 END, \
             requested_by = EXCLUDED.requested_by, pending_profile = EXCLUDED.pending_profile \
         WHERE c.last_sent_at <= $9 AND (c.window_started_at <= $8 OR c.sends_in_window < $10) \
         RETURNING c.expires_at",
    )
    .bind::<Text, _>(request.phone)
    .bind::<Text, _>(request.purpose)
    .bind::<Text, _>(request.otp_hash)
    .bind::<Timestamptz, _>(now + limits.ttl)
    .bind::<Timestamptz, _>(now)
    .bind::<Nullable<SqlUuid>, _>(request.requested_by)
    .bind::<Nullable<Jsonb>, _>(request.pending_profile.clone())
    .bind::<Timestamptz, _>(now - limits.window)
    .bind::<Timestamptz, _>(now - limits.cooldown)
    .bind::<Integer, _>(limits.max_sends)
    .get_result(conn)
    .await
    .optional()?;
    if let Some(issued) = issued {
        return Ok(Ok(issued.expires_at));
    }
    let current = find(conn, request.phone, request.purpose).await?;
    Ok(Err(throttle_reason(current.as_ref(), limits, now)))
}

/// Takes back an OTP that was stored but never delivered (the SMS provider
/// failed): the code dies and the send does not count against the phone's
/// cooldown or send limit. Only the challenge with `otp_hash` is touched,
/// so a later send is never undone.
pub async fn withdraw(
    conn: &mut AsyncPgConnection,
    phone: &str,
    purpose: &str,
    otp_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE otp_challenges SET expires_at = $4, last_sent_at = 'epoch', \
             sends_in_window = GREATEST(sends_in_window - 1, 0) \
         WHERE phone = $1 AND purpose = $2 AND otp_hash = $3",
    )
    .bind::<Text, _>(phone)
    .bind::<Text, _>(purpose)
    .bind::<Text, _>(otp_hash)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}

fn throttle_reason(
    current: Option<&OtpChallenge>,
    limits: SendLimits,
    now: DateTime<Utc>,
) -> Throttle {
    let Some(current) = current else {
        // The row vanished between the two statements: ask for a retry soon.
        return Throttle::Cooldown {
            retry_after: Duration::seconds(1),
        };
    };
    let cooldown_left = current.last_sent_at + limits.cooldown - now;
    let window_left = current.window_started_at + limits.window - now;
    if current.sends_in_window >= limits.max_sends && window_left > Duration::zero() {
        Throttle::SendLimit {
            retry_after: window_left.max(cooldown_left),
        }
    } else {
        Throttle::Cooldown {
            retry_after: cooldown_left.max(Duration::milliseconds(1)),
        }
    }
}

/// The challenge for (phone, purpose), if any.
pub async fn find(
    conn: &mut AsyncPgConnection,
    phone: &str,
    purpose: &str,
) -> QueryResult<Option<OtpChallenge>> {
    otp_challenges::table
        .find((phone, purpose))
        .select(OtpChallenge::as_select())
        .first(conn)
        .await
        .optional()
}

/// The result of checking a guess.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Right: the OTP is now used up. Carries what was stored with it.
    Accepted {
        /// Who asked for it.
        requested_by: Option<Uuid>,
        /// The details stored with it.
        pending_profile: Option<serde_json::Value>,
    },
    /// No live OTP for this phone and purpose.
    NotRequested,
    /// The OTP is past its expiry.
    Expired,
    /// Wrong; tries remain.
    Wrong,
    /// Wrong, and that was the last try: the OTP is now dead.
    LastWrong,
    /// Too many wrong tries: the OTP is dead, right or wrong.
    TooManyAttempts,
}

/// Checks a guess inside the caller's transaction, locking the row so that
/// parallel guesses are counted one by one. A wrong guess is counted (the
/// caller must commit even then); a right one uses the OTP up.
pub async fn check(
    conn: &mut AsyncPgConnection,
    phone: &str,
    purpose: &str,
    matches: impl Fn(&str) -> bool,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> QueryResult<Check> {
    let row: Option<OtpChallenge> = otp_challenges::table
        .find((phone, purpose))
        .select(OtpChallenge::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(row) = row else {
        return Ok(Check::NotRequested);
    };
    let Some(hash) = row.otp_hash.as_deref() else {
        return Ok(Check::NotRequested);
    };
    if row.attempts >= max_attempts {
        return Ok(Check::TooManyAttempts);
    }
    if row.expires_at <= now {
        return Ok(Check::Expired);
    }
    let target = otp_challenges::table.find((phone, purpose));
    if matches(hash) {
        diesel::update(target)
            .set(otp_challenges::otp_hash.eq(None::<String>))
            .execute(conn)
            .await?;
        return Ok(Check::Accepted {
            requested_by: row.requested_by,
            pending_profile: row.pending_profile,
        });
    }
    diesel::update(target)
        .set(otp_challenges::attempts.eq(otp_challenges::attempts + 1))
        .execute(conn)
        .await?;
    Ok(if row.attempts + 1 >= max_attempts {
        Check::LastWrong
    } else {
        Check::Wrong
    })
}

/// Deletes challenges whose OTP died and whose send window both ended
/// before `before`: nothing they hold limits or proves anything any more.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(
        otp_challenges::table.filter(
            otp_challenges::expires_at
                .lt(before)
                .and(otp_challenges::window_started_at.lt(before))
                .and(otp_challenges::last_sent_at.lt(before)),
        ),
    )
    .execute(conn)
    .await
}
