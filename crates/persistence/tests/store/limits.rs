//! The limits kept in PostgreSQL, so a Redis loss lifts none of them: the
//! OTP cooldown, send limit and attempts, the fixed-window counters and
//! the lockout after wrong guesses.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use chrono::{DateTime, Duration, Utc};

use crate::support::now_s;
use diesel_async::AsyncPgConnection;
use weelo_persistence::limits::{self, LockoutPolicy, WindowLimit};
use weelo_persistence::otp::{self, Check, IssueRequest, SendLimits, Throttle};
use weelo_test_support::TestDb;

const PHONE: &str = "9876543210";

fn send_limits() -> SendLimits {
    SendLimits {
        ttl: Duration::minutes(5),
        cooldown: Duration::seconds(30),
        window: Duration::hours(1),
        max_sends: 3,
    }
}

async fn issue(
    conn: &mut AsyncPgConnection,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Throttle> {
    let request = IssueRequest {
        phone: PHONE,
        purpose: "customer",
        otp_hash: hash,
        requested_by: None,
        pending_profile: None,
    };
    otp::issue(conn, &request, send_limits(), now)
        .await
        .unwrap()
}

async fn guess(conn: &mut AsyncPgConnection, guess: &str, now: DateTime<Utc>) -> Check {
    otp::check(conn, PHONE, "customer", |stored| stored == guess, 3, now)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_second_send_inside_the_cooldown_is_refused_with_its_wait() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let expires = issue(&mut conn, "h1", now).await.unwrap();
    assert_eq!(expires, now + Duration::minutes(5));
    assert_eq!(
        issue(&mut conn, "h2", now + Duration::seconds(10)).await,
        Err(Throttle::Cooldown {
            retry_after: Duration::seconds(20)
        })
    );
    // The refused send changed nothing: the first OTP still answers.
    assert!(matches!(
        guess(&mut conn, "h1", now).await,
        Check::Accepted { .. }
    ));
}

#[tokio::test]
async fn the_send_limit_holds_for_its_window() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let start = now_s();
    for n in 0..3 {
        issue(&mut conn, "h", start + Duration::minutes(n))
            .await
            .unwrap();
    }
    let refused = issue(&mut conn, "h", start + Duration::minutes(10)).await;
    assert_eq!(
        refused,
        Err(Throttle::SendLimit {
            retry_after: Duration::minutes(50)
        })
    );
    issue(&mut conn, "h", start + Duration::minutes(61))
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_guesses_are_counted_and_the_last_kills_the_otp() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    issue(&mut conn, "right", now).await.unwrap();
    assert_eq!(guess(&mut conn, "wrong", now).await, Check::Wrong);
    assert_eq!(guess(&mut conn, "wrong", now).await, Check::Wrong);
    assert_eq!(guess(&mut conn, "wrong", now).await, Check::LastWrong);
    assert_eq!(guess(&mut conn, "right", now).await, Check::TooManyAttempts);
}

#[tokio::test]
async fn a_right_guess_uses_the_otp_up_and_a_late_one_is_expired() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    assert_eq!(guess(&mut conn, "right", now).await, Check::NotRequested);
    issue(&mut conn, "right", now).await.unwrap();
    assert_eq!(
        guess(&mut conn, "right", now).await,
        Check::Accepted {
            requested_by: None,
            pending_profile: None
        }
    );
    assert_eq!(guess(&mut conn, "right", now).await, Check::NotRequested);
    let later = now + Duration::minutes(1);
    issue(&mut conn, "again", later).await.unwrap();
    assert_eq!(
        guess(&mut conn, "again", later + Duration::minutes(6)).await,
        Check::Expired
    );
}

#[tokio::test]
async fn a_window_counter_refuses_past_its_max_until_the_window_ends() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let limit = WindowLimit {
        max: 2,
        window: Duration::minutes(10),
    };
    let start = now_s();
    assert_eq!(
        limits::hit(&mut conn, "otp-send:1.2.3.4", limit, start)
            .await
            .unwrap(),
        Ok(())
    );
    let second = start + Duration::minutes(1);
    assert_eq!(
        limits::hit(&mut conn, "otp-send:1.2.3.4", limit, second)
            .await
            .unwrap(),
        Ok(())
    );
    let third = start + Duration::minutes(4);
    assert_eq!(
        limits::hit(&mut conn, "otp-send:1.2.3.4", limit, third)
            .await
            .unwrap(),
        Err(Duration::minutes(6))
    );
    // Another key is counted apart; the next window starts afresh.
    assert_eq!(
        limits::hit(&mut conn, "otp-send:5.6.7.8", limit, third)
            .await
            .unwrap(),
        Ok(())
    );
    let next = start + Duration::minutes(11);
    assert_eq!(
        limits::hit(&mut conn, "otp-send:1.2.3.4", limit, next)
            .await
            .unwrap(),
        Ok(())
    );
}

#[tokio::test]
async fn wrong_guesses_lock_the_phone_until_a_right_one_clears_them() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let policy = LockoutPolicy {
        after_failures: 3,
        window: Duration::hours(24),
        lock: Duration::hours(1),
    };
    let now = now_s();
    assert_eq!(
        limits::locked_until(&mut conn, PHONE, now).await.unwrap(),
        None
    );
    assert_eq!(
        limits::record_failure(&mut conn, PHONE, policy, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        limits::record_failure(&mut conn, PHONE, policy, now)
            .await
            .unwrap(),
        None
    );
    let until = limits::record_failure(&mut conn, PHONE, policy, now)
        .await
        .unwrap();
    assert_eq!(until, Some(now + Duration::hours(1)));
    assert_eq!(
        limits::locked_until(&mut conn, PHONE, now).await.unwrap(),
        until
    );
    assert_eq!(
        limits::locked_until(&mut conn, PHONE, now + Duration::minutes(61))
            .await
            .unwrap(),
        None,
        "the lock ends"
    );
    assert_eq!(limits::clear_failures(&mut conn, PHONE).await.unwrap(), 1);
    assert_eq!(
        limits::record_failure(&mut conn, PHONE, policy, now)
            .await
            .unwrap(),
        None
    );
}
