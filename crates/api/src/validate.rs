//! Field checks shared by the routes. Each returns a 400 envelope naming the
//! field, so every refusal says what to fix.

use crate::ApiError;
use crate::auth::Phone;

/// A phone field.
pub fn phone(field: &str, raw: &str) -> Result<Phone, ApiError> {
    Phone::parse(raw.trim()).ok_or_else(|| {
        ApiError::invalid_field(
            field,
            format!("{field} must be a 10-digit mobile number starting with 6-9"),
        )
    })
}

/// A 6-digit OTP field.
pub fn otp(field: &str, raw: &str) -> Result<String, ApiError> {
    let otp = raw.trim();
    if otp.len() == 6 && otp.bytes().all(|b| b.is_ascii_digit()) {
        Ok(otp.to_owned())
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be 6 digits"),
        ))
    }
}

/// A free-text field, trimmed; empty counts as absent. Longer than `max`
/// characters or holding control characters is refused.
pub fn text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A required free-text field.
pub fn required_text(field: &str, raw: Option<&str>, max: usize) -> Result<String, ApiError> {
    text(field, raw, max)?
        .ok_or_else(|| ApiError::invalid_field(field, format!("{field} is required")))
}

/// An optional e-mail address (one `@`, a dot in the domain, no spaces).
pub fn email(field: &str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = text(field, raw, 254)? else {
        return Ok(None);
    };
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    }) && !value.contains(char::is_whitespace);
    if valid {
        Ok(Some(value.to_lowercase()))
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} is not a valid e-mail address"),
        ))
    }
}

/// An optional field that must match a fixed pattern of letter (`A`) and
/// digit (`9`) positions, `X` meaning either; upper-cased first.
pub fn pattern(
    field: &str,
    raw: Option<&str>,
    shape: &str,
    what: &str,
) -> Result<Option<String>, ApiError> {
    let Some(value) = text(field, raw, shape.len())? else {
        return Ok(None);
    };
    let value = value.to_ascii_uppercase();
    let fits = value.len() == shape.len()
        && value.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'A' => c.is_ascii_uppercase(),
            b'9' => c.is_ascii_digit(),
            b'X' => c.is_ascii_uppercase() || c.is_ascii_digit(),
            literal => c == literal,
        });
    if fits {
        Ok(Some(value))
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} is not a valid {what}"),
        ))
    }
}

/// GSTIN: 2 digits of state, the PAN, an entity digit, `Z`, a check character.
pub fn gst_number(field: &str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    pattern(field, raw, "99AAAAA9999AXZX", "GST number")
}

/// PAN: 5 letters, 4 digits, 1 letter.
pub fn pan_number(field: &str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    pattern(field, raw, "AAAAA9999A", "PAN")
}

/// The languages the apps offer.
pub const LANGUAGES: &[&str] = &[
    "en", "hi", "ta", "te", "kn", "ml", "mr", "bn", "gu", "pa", "or", "as", "ur",
];

/// A language code the apps offer.
pub fn language(field: &str, raw: &str) -> Result<String, ApiError> {
    let code = raw.trim().to_ascii_lowercase();
    if LANGUAGES.contains(&code.as_str()) {
        Ok(code)
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be one of {}", LANGUAGES.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gst_and_pan_follow_their_shapes() {
        assert_eq!(
            gst_number("g", Some("27aapfu0939f1zv")).unwrap().as_deref(),
            Some("27AAPFU0939F1ZV")
        );
        assert!(gst_number("g", Some("27AAPFU0939F1AV")).is_err());
        assert_eq!(
            pan_number("p", Some("ABCDE1234F")).unwrap().as_deref(),
            Some("ABCDE1234F")
        );
        assert!(pan_number("p", Some("ABCDE12345")).is_err());
        assert_eq!(pan_number("p", None).unwrap(), None);
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email("e", Some("a@b.in")).is_ok());
        for bad in ["a@b", "@b.in", "a b@c.in", "a@.in", "a@b.in."] {
            assert!(email("e", Some(bad)).is_err(), "{bad}");
        }
    }
}
