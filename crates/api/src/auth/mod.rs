//! Who is calling: OTP delivery, token signing, the phone newtype and the
//! extractors that give handlers the caller's id and role.
//!
//! - [`settings`]: the `[auth]` section.
//! - [`tokens`]: HS256 access tokens, refresh-token and OTP hashes.
//! - [`phone`]: [`Phone`], the only way a phone number enters the system.
//! - [`sms`]: the [`SmsSender`] trait and the logging sender shipped.
//! - [`extract`]: [`Caller`] and the role guards [`Authed`].
//! - [`session_cache`]: sessions recently found live, per instance.
//! - [`error`]: [`AuthError`], what authentication fails with.

pub mod error;
pub mod extract;
pub mod login;
pub mod phone;
pub mod session_cache;
pub mod settings;
pub mod sms;
pub mod sms_providers;
pub mod tokens;

pub use error::AuthError;
pub use extract::{Authed, Caller, CustomerRole, DriverRole, TransporterRole};
pub use phone::Phone;
pub use settings::AuthSettings;
pub use sms::{LoggingSmsSender, SmsProvider, SmsSender, SmsSettings};
pub use sms_providers::sender_for;
pub use tokens::TokenKeys;
pub use weelo_orders::Role;
