//! Small pieces of the apps' wire format that every use case shares:
//! timestamps as the apps parse them, phones as people and logs may see
//! them, and JSON parsing that names the offending field.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;

use crate::DispatchError;

/// `2026-02-03T03:15:00.000Z`: the one pattern the customer app parses.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// India Standard Time, +05:30 (no daylight saving): the apps' days,
/// surge hours and dates are India's.
pub const INDIA: chrono::FixedOffset = match chrono::FixedOffset::east_opt(5 * 3600 + 30 * 60) {
    Some(offset) => offset,
    None => panic!("+05:30 is a valid offset"),
};

/// Masks a device token for logs: its first and last four characters.
pub fn mask_token(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Masks a stored phone: the first two and last two digits stay
/// (`98******10`).
pub fn mask_phone(phone: &str) -> String {
    if phone.len() < 4 || !phone.is_ascii() {
        return "*".repeat(phone.chars().count());
    }
    format!("{}******{}", &phone[..2], &phone[phone.len() - 2..])
}

/// Parses `body` as `T`, naming the failing field's path on error.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, DispatchError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DispatchError::invalid(
            "the request body must be a JSON object",
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = strip_position(&inner);
        if inner.is_syntax() || inner.is_eof() {
            DispatchError::invalid(format!("malformed JSON: {inner}"))
        } else if let Some(missing) = missing_field(&message) {
            // serde reports a missing field at its parent's path.
            let field = if path == "." {
                missing.to_owned()
            } else {
                format!("{path}.{missing}")
            };
            DispatchError::invalid_field(field.clone(), format!("{field} is required"))
        } else if path == "." {
            DispatchError::invalid(format!("invalid request body: {inner}"))
        } else {
            DispatchError::invalid_field(path, format!("invalid value: {message}"))
        }
    })
}

/// The name in serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// serde_json appends "at line 1 column 17", which says nothing to an app.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::DispatchError;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Line {
        quantity: u32,
        note: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Order {
        lines: Vec<Line>,
    }

    fn field_of(error: DispatchError) -> Option<String> {
        match error {
            DispatchError::Invalid { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn a_wrong_type_names_the_nested_field() {
        let error = parse::<Order>(br#"{"lines":[{"quantity":1},{"quantity":"two"}]}"#);
        let field = error.err().and_then(field_of);
        assert_eq!(field.as_deref(), Some("lines[1].quantity"));
    }

    #[test]
    fn explicit_null_and_unknown_fields_are_accepted() {
        let order = parse::<Order>(br#"{"lines":[{"quantity":2,"note":null,"extra":true}]}"#);
        assert!(order.is_ok(), "{order:?}");
    }

    #[test]
    fn malformed_json_and_empty_bodies_are_validation_errors_without_a_field() {
        for body in [&b"{\"lines\": ["[..], b"", b"   "] {
            match parse::<Order>(body) {
                Err(DispatchError::Invalid { field: None, .. }) => {}
                other => panic!("body {body:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_field_is_reported() {
        let error = parse::<Order>(br#"{"lines":[{"note":"x"}]}"#);
        assert_eq!(
            field_of(error.unwrap_err()).as_deref(),
            Some("lines[0].quantity")
        );
        let error = parse::<Order>(br#"{}"#);
        assert_eq!(field_of(error.unwrap_err()).as_deref(), Some("lines"));
    }
}
