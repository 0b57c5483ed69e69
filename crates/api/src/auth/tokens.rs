//! Signing and hashing: HS256 access tokens, opaque refresh tokens stored as
//! keyed hashes, and keyed hashes of OTPs. One secret keys all three, each
//! under its own label so a value of one kind never verifies as another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use rand::{Rng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::Role;

type HmacSha256 = Hmac<Sha256>;

/// The only header we issue and the only one we accept (`alg` is pinned, so
/// `none` or RS/HS confusion cannot get in).
const JWT_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// The user's role.
    pub role: Role,
    /// The login session; logout revokes it and every token it issued.
    pub sid: Uuid,
    /// This token's id.
    pub jti: Uuid,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token we signed (bad shape, header, signature or claims).
    #[error("the access token is invalid")]
    Invalid,
    /// Signed by us but past its expiry.
    #[error("the access token has expired")]
    Expired,
}

/// Issues and checks tokens and hashes with the configured secret.
#[derive(Clone)]
pub struct TokenKeys {
    secret: SecretString,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from the configured secret (validated by `AuthSettings`).
    pub fn new(secret: SecretString) -> Self {
        Self { secret }
    }

    /// The documents' object storage, its download links signed under the
    /// same secret (their own label).
    pub fn open_storage(
        &self,
        settings: weelo_dispatch::documents::StorageSettings,
    ) -> Result<weelo_dispatch::documents::Storage, weelo_dispatch::documents::StorageError> {
        weelo_dispatch::documents::Storage::open(settings, self.secret.expose_secret().as_bytes())
    }

    /// The seal of price quotes, under the same secret (its own label).
    pub fn quote_seal(&self) -> weelo_dispatch::pricing::QuoteSeal {
        weelo_dispatch::pricing::QuoteSeal::new(self.secret.expose_secret().as_bytes())
    }

    fn mac(&self, label: &str) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail; fall back to
        // an empty key would be wrong, so the secret is used as is.
        let mut mac =
            <HmacSha256 as KeyInit>::new_from_slice(self.secret.expose_secret().as_bytes())
                .unwrap_or_else(|_| unreachable_hmac_key());
        mac.update(label.as_bytes());
        mac.update(b"\0");
        mac
    }

    /// Signs `claims` into a compact JWS.
    pub fn sign_access(&self, claims: &AccessClaims) -> Result<String, serde_json::Error> {
        let payload = serde_json::to_vec(claims)?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(JWT_HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.jwt_mac(&signing_input).finalize().into_bytes();
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    fn jwt_mac(&self, signing_input: &str) -> HmacSha256 {
        // A JWT's HMAC is over the signing input alone (no label), so other
        // HS256 libraries can verify our tokens with the same secret.
        let mut mac =
            <HmacSha256 as KeyInit>::new_from_slice(self.secret.expose_secret().as_bytes())
                .unwrap_or_else(|_| unreachable_hmac_key());
        mac.update(signing_input.as_bytes());
        mac
    }

    /// Checks signature, header and expiry against `now`.
    pub fn verify_access(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<AccessClaims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let signing_input = &token[..header.len() + 1 + payload.len()];
        self.jwt_mac(signing_input)
            .verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenError::Invalid)?;
        if header != JWT_HEADER.as_bytes() {
            return Err(TokenError::Invalid);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let claims: AccessClaims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
        if claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// A new opaque refresh token: 32 random bytes, URL-safe.
    pub fn new_refresh_token() -> String {
        let mut bytes = [0_u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The stored form of a refresh token.
    pub fn hash_refresh_token(&self, token: &str) -> String {
        let mut mac = self.mac("refresh");
        mac.update(token.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A new 6-digit OTP from the thread's CSPRNG.
    pub fn new_otp() -> String {
        format!("{:06}", rand::rng().random_range(0..1_000_000_u32))
    }

    fn otp_mac(&self, purpose: &str, phone: &str, otp: &str) -> HmacSha256 {
        let mut mac = self.mac("otp");
        for part in [purpose, phone, otp] {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        mac
    }

    /// The stored form of an OTP, bound to its purpose and phone.
    pub fn hash_otp(&self, purpose: &str, phone: &str, otp: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.otp_mac(purpose, phone, otp).finalize().into_bytes())
    }

    /// Whether `guess` is the OTP stored as `stored` (constant time).
    pub fn otp_matches(&self, purpose: &str, phone: &str, guess: &str, stored: &str) -> bool {
        let Ok(stored) = URL_SAFE_NO_PAD.decode(stored) else {
            return false;
        };
        self.otp_mac(purpose, phone, guess)
            .verify_slice(&stored)
            .is_ok()
    }
}

/// HMAC takes keys of every length; this only satisfies the type.
fn unreachable_hmac_key() -> HmacSha256 {
    <HmacSha256 as KeyInit>::new(&Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn keys() -> TokenKeys {
        TokenKeys::new(SecretString::from("k".repeat(32)))
    }

    fn claims(now: DateTime<Utc>) -> AccessClaims {
        AccessClaims {
            sub: Uuid::new_v4(),
            role: Role::Transporter,
            sid: Uuid::new_v4(),
            jti: Uuid::new_v4(),
            iat: now.timestamp(),
            exp: (now + Duration::hours(1)).timestamp(),
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let now = Utc::now();
        let claims = claims(now);
        let token = keys().sign_access(&claims).unwrap();
        assert_eq!(keys().verify_access(&token, now).unwrap(), claims);
        assert_eq!(
            keys().verify_access(&token, now + Duration::hours(1)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tampering_or_another_secret_is_refused() {
        let now = Utc::now();
        let token = keys().sign_access(&claims(now)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims(now);
        forged.role = Role::Customer;
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            keys().verify_access(&parts.join("."), now),
            Err(TokenError::Invalid)
        );
        let other = TokenKeys::new(SecretString::from("o".repeat(32)));
        assert_eq!(other.verify_access(&token, now), Err(TokenError::Invalid));
        assert_eq!(keys().verify_access("a.b", now), Err(TokenError::Invalid));
    }

    #[test]
    fn an_alg_none_header_is_refused() {
        let now = Utc::now();
        let token = keys().sign_access(&claims(now)).unwrap();
        let rest = token.split_once('.').unwrap().1;
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            keys().verify_access(&format!("{none}.{rest}"), now),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn otps_are_six_digits_and_match_only_their_phone_and_purpose() {
        let otp = TokenKeys::new_otp();
        assert!(otp.len() == 6 && otp.bytes().all(|b| b.is_ascii_digit()));
        let stored = keys().hash_otp("customer", "9876543210", &otp);
        assert!(keys().otp_matches("customer", "9876543210", &otp, &stored));
        assert!(!keys().otp_matches("transporter", "9876543210", &otp, &stored));
        assert!(!keys().otp_matches("customer", "9876543211", &otp, &stored));
        assert_ne!(stored, otp);
    }
}
