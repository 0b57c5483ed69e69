//! Quote tokens: a quote's terms, signed with the server's secret so a
//! later create can show the price was the server's
//! (`base64url(payload).base64url(HMAC-SHA256)`), and read back only when
//! untouched.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs and opens quote tokens with one key.
#[derive(Clone)]
pub struct QuoteSeal {
    /// HMAC keyed with the secret, the label already absorbed.
    keyed: HmacSha256,
}

impl std::fmt::Debug for QuoteSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuoteSeal(..)")
    }
}

impl QuoteSeal {
    /// A seal under `secret`: the server's signing secret. The label
    /// `quote` keeps a quote from ever verifying as another kind of token
    /// signed with the same secret.
    pub fn new(secret: &[u8]) -> Self {
        // HMAC takes keys of every length: this cannot fail.
        let mut keyed = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
        keyed.update(b"quote\0");
        Self { keyed }
    }

    /// `payload`, signed.
    pub fn sign(&self, payload: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// The payload of a token this seal signed; `None` when it was altered
    /// or is not one.
    pub fn open(&self, token: &str) -> Option<String> {
        let (payload, signature) = token.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.keyed.clone();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        Some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> QuoteSeal {
        QuoteSeal::new("k".repeat(32).as_bytes())
    }

    #[test]
    fn a_quote_token_opens_only_as_signed() {
        let payload = r#"{"pricePerTruck":9000,"validUntilMs":1}"#;
        let token = seal().sign(payload);
        assert_eq!(seal().open(&token).as_deref(), Some(payload));
        let (_, signature) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(r#"{"pricePerTruck":1,"validUntilMs":1}"#)
        );
        assert_eq!(seal().open(&forged), None, "a changed price");
        let other = QuoteSeal::new("o".repeat(32).as_bytes());
        assert_eq!(other.open(&token), None, "another server's key");
        assert_eq!(seal().open("not-a-token"), None);
        assert_eq!(seal().open("a.b.c"), None);
    }
}
