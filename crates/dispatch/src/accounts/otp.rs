//! Login's storage steps as use cases: issuing an OTP under the phone's
//! lock, its cooldown and send limit and the service's SMS budget, and
//! checking a guess under the attempt limit and the lockout. Each is one
//! transaction; the keys that hash OTPs and sign tokens stay at the edge.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use weelo_persistence::limits::{self, LockoutPolicy, WindowLimit};
use weelo_persistence::otp::{self, Check, IssueRequest, SendLimits, Throttle};

use crate::{Dispatch, DispatchError};

/// The `rate_counters` key of the global SMS budget.
const SMS_BUDGET_KEY: &str = "sms:budget";

/// Why an OTP was not issued (nothing was stored, no cooldown started).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueRefused {
    /// The phone is locked after wrong guesses, until then.
    Locked(DateTime<Utc>),
    /// The phone's cooldown or send limit.
    Throttled(Throttle),
    /// The service's SMS budget for the minute is spent.
    BudgetSpent,
}

/// The limits an issue is held to.
#[derive(Debug, Clone, Copy)]
pub struct IssueLimits {
    /// Per phone: lifetime, cooldown, sends per window.
    pub per_phone: SendLimits,
    /// For the whole service.
    pub sms_budget: WindowLimit,
}

/// Withdraws an OTP its SMS never carried (see `otp::withdraw`) and gives
/// its unit of the SMS budget back.
pub async fn withdraw_otp(
    dispatch: &Dispatch,
    phone: &str,
    purpose: &str,
    otp_hash: &str,
) -> Result<bool, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let withdrawn = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let withdrawn = otp::withdraw(conn, phone, purpose, otp_hash, now).await?;
            if withdrawn {
                // The SMS never went out: it does not count against the
                // service-wide budget either.
                limits::give_back(conn, SMS_BUDGET_KEY).await?;
            }
            Ok(withdrawn)
        })
        .await
        .map_err(weelo_persistence::PersistenceError::from)?;
    Ok(withdrawn)
}

/// Stores the challenge of `request` unless a limit refuses it; the budget
/// is taken in the same transaction, so a refused send stores no OTP.
/// Answers when the OTP dies.
pub async fn issue_otp(
    dispatch: &Dispatch,
    request: &IssueRequest<'_>,
    limits: IssueLimits,
) -> Result<Result<DateTime<Utc>, IssueRefused>, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let issued = conn
        .transaction::<_, Rollback, _>(async |conn| {
            if let Some(until) = limits::locked_until(conn, request.phone, now).await? {
                return Err(Rollback::Refused(IssueRefused::Locked(until)));
            }
            let expires_at = otp::issue(conn, request, limits.per_phone, now)
                .await?
                .map_err(|throttle| Rollback::Refused(IssueRefused::Throttled(throttle)))?;
            limits::hit(conn, SMS_BUDGET_KEY, limits.sms_budget, now)
                .await?
                .map_err(|_| Rollback::Refused(IssueRefused::BudgetSpent))?;
            Ok(expires_at)
        })
        .await;
    match issued {
        Ok(expires_at) => Ok(Ok(expires_at)),
        Err(Rollback::Refused(refused)) => Ok(Err(refused)),
        Err(Rollback::Database(error)) => Err(error.into()),
    }
}

/// A refusal rolls the issue back as surely as a database error does.
enum Rollback {
    Refused(IssueRefused),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Rollback {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

/// What a guess met.
#[derive(Debug)]
pub enum Guess {
    /// The challenge's answer (a wrong guess is counted and committed).
    Checked(Check),
    /// The phone is locked, until then (now, or by this wrong guess).
    Locked(DateTime<Utc>),
}

/// The limits a guess is held to.
#[derive(Debug, Clone, Copy)]
pub struct GuessLimits {
    /// Wrong guesses that kill one OTP.
    pub max_attempts: i32,
    /// Wrong guesses per phone that lock its login.
    pub lockout: LockoutPolicy,
}

/// Checks a guess of `phone`'s OTP for `purpose` with `matches` (the edge's
/// keyed comparison); a right guess uses the OTP up and clears the phone's
/// failures, a wrong one is counted toward the lockout.
pub async fn check_otp(
    dispatch: &Dispatch,
    phone: &str,
    purpose: &str,
    matches: impl Fn(&str) -> bool + Send + Sync,
    limits: GuessLimits,
) -> Result<Guess, DispatchError> {
    let now = dispatch.clock.now();
    let mut conn = dispatch.conn().await?;
    let guess = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            if let Some(until) = limits::locked_until(conn, phone, now).await? {
                return Ok(Guess::Locked(until));
            }
            let checked =
                otp::check(conn, phone, purpose, &matches, limits.max_attempts, now).await?;
            match checked {
                Check::Accepted { .. } => {
                    limits::clear_failures(conn, phone).await?;
                }
                Check::Wrong | Check::LastWrong => {
                    if let Some(until) =
                        limits::record_failure(conn, phone, limits.lockout, now).await?
                    {
                        return Ok(Guess::Locked(until));
                    }
                }
                Check::NotRequested | Check::Expired | Check::TooManyAttempts => {}
            }
            Ok(Guess::Checked(checked))
        })
        .await?;
    Ok(guess)
}

/// The OTP challenge of `phone` for `purpose`, if one was issued.
pub async fn challenge(
    dispatch: &Dispatch,
    phone: &str,
    purpose: &str,
) -> Result<Option<otp::OtpChallenge>, DispatchError> {
    let mut conn = dispatch.conn().await?;
    Ok(otp::find(&mut conn, phone, purpose).await?)
}
