//! Indian mobile numbers: ten digits starting 6–9, as the apps send them.
//! Anything else never gets past the edge.

use std::fmt;

/// A validated 10-digit Indian mobile number. Its `Debug` and `Display`
/// print the masked form, so a stray log line cannot leak it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `^[6-9]\d{9}$` exactly (no `+91`, spaces or dashes: the apps
    /// send bare digits, and guessing at other forms would hide client bugs).
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = raw.as_bytes();
        let valid = bytes.len() == 10
            && matches!(bytes[0], b'6'..=b'9')
            && bytes.iter().all(u8::is_ascii_digit);
        valid.then(|| Self(raw.to_owned()))
    }

    /// The digits, for storage and delivery only.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `98******10`: what people and logs may see.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks a stored phone: the first two and last two digits stay.
pub fn mask(phone: &str) -> String {
    if phone.len() < 4 || !phone.is_ascii() {
        return "*".repeat(phone.chars().count());
    }
    format!("{}******{}", &phone[..2], &phone[phone.len() - 2..])
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ten_digit_numbers_starting_six_to_nine_are_phones() {
        assert!(Phone::parse("9876543210").is_some());
        assert!(Phone::parse("6000000000").is_some());
        for bad in [
            "5876543210",
            "987654321",
            "98765432100",
            "+919876543210",
            "98765 4321",
            "",
            "98765432१0",
        ] {
            assert!(Phone::parse(bad).is_none(), "{bad} was accepted");
        }
    }

    #[test]
    fn debug_and_display_never_show_the_number() {
        let phone = Phone::parse("9876543210").unwrap();
        assert_eq!(phone.to_string(), "98******10");
        assert!(!format!("{phone:?}").contains("9876543210"));
    }
}
