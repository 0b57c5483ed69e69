//! What login, tokens and role checks can fail with. Mapped to HTTP in
//! `crate::error`, nowhere else.

use super::Role;

/// Authentication and authorisation failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("authentication required: send `Authorization: Bearer <accessToken>`")]
    MissingToken,
    /// The token is not one we issued.
    #[error("the access token is invalid")]
    InvalidToken,
    /// The token's life is over; refresh it.
    #[error("the access token has expired; refresh it")]
    TokenExpired,
    /// The session was logged out or has expired.
    #[error("this session has ended; log in again")]
    SessionEnded,
    /// The refresh token is unknown, revoked or expired.
    #[error("the refresh token is invalid or has expired; log in again")]
    InvalidRefreshToken,
    /// The route is for another role.
    #[error("this action is only for {}s", .0.as_str())]
    WrongRole(Role),
    /// The account is switched off.
    #[error("this account is disabled")]
    AccountDisabled,
    /// Wrong OTP; tries remain.
    #[error("the OTP is incorrect")]
    InvalidOtp,
    /// The OTP is past its life.
    #[error("the OTP has expired; request a new one")]
    OtpExpired,
    /// Too many wrong tries: the OTP is dead.
    #[error("too many wrong attempts; request a new OTP")]
    OtpMaxAttempts,
    /// No live OTP for this phone (never sent, or already used).
    #[error("no OTP is pending for this number; request one first")]
    OtpNotRequested,
    /// Too soon after the last send, or too many sends.
    #[error("too many OTP requests; try again in {} s", .retry_after_ms.div_ceil(1000))]
    OtpThrottled {
        /// Until a send is allowed again.
        retry_after_ms: u64,
    },
    /// Too many wrong OTPs for this phone over the long window.
    #[error("too many wrong OTPs for this number; try again in {} min", .retry_after_ms.div_ceil(60_000))]
    OtpLocked {
        /// Until the lock ends.
        retry_after_ms: u64,
    },
    /// Too many OTP calls from this client address.
    #[error("too many OTP requests from this network; try again in {} s", .retry_after_ms.div_ceil(1000))]
    ClientRateLimited {
        /// Until the window ends.
        retry_after_ms: u64,
    },
    /// The global SMS budget of this minute is spent.
    #[error("OTP messages are paused for a moment; try again in a minute")]
    SmsBudgetExhausted,
    /// The SMS provider failed; nothing was stored as sent.
    #[error("the OTP could not be sent; try again")]
    OtpSendFailed,
}
