//! Accounts: the storage side of login and of the people behind the apps.
//! The keys that hash OTPs and sign tokens, and the SMS sender, stay at the
//! HTTP edge; what is stored, and under which limits, is here.
//!
//! - [`otp`]: OTPs issued and checked under their limits.
//! - [`users`]: users found, created and updated; drivers of a fleet.
//! - [`sessions`]: login sessions, per-address limits.
//! - [`devices`]: push device tokens.
//! - [`dto`]: the apps' JSON shapes of users, drivers and vehicles.

pub mod devices;
pub mod dto;
pub mod otp;
pub mod sessions;
pub mod users;

pub use otp::{Guess, GuessLimits, IssueLimits, IssueRefused, check_otp, issue_otp, withdraw_otp};
