//! What the places providers answer: search hits, addresses and routes, in
//! one shape whichever provider served them.

use serde::{Deserialize, Serialize};
use weelo_availability::Point;

/// Who answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Google Maps Platform.
    Google,
    /// Photon and OSRM.
    Open,
    /// The embedded gazetteer and haversine estimates.
    Embedded,
}

impl Source {
    /// As on the wire and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Google => "google",
            Source::Open => "open",
            Source::Embedded => "embedded",
        }
    }
}

/// A place found by a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    /// The provider's id of the place.
    pub place_id: String,
    /// What to show (`Whitefield, Bangalore Urban, Karnataka`).
    pub label: String,
    /// The full address, when the provider has one.
    pub address: Option<String>,
    /// City or town.
    pub city: Option<String>,
    /// District.
    pub district: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

/// The address of a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Degrees north (the point asked about).
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// What to show.
    pub address: String,
    /// City or town.
    pub city: Option<String>,
    /// District.
    pub district: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// PIN code.
    pub postal_code: Option<String>,
}

/// One leg of a route, between two consecutive points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leg {
    /// Metres.
    pub distance_m: f64,
    /// Seconds.
    pub duration_s: f64,
}

/// A route over two or more points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// Metres.
    pub distance_m: f64,
    /// Seconds.
    pub duration_s: f64,
    /// The line, `[latitude, longitude]` pairs.
    pub polyline: Vec<[f64; 2]>,
    /// Per pair of consecutive points.
    pub legs: Vec<Leg>,
}

/// A search as asked.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// The text typed.
    pub text: String,
    /// Near whom.
    pub bias: Option<Point>,
    /// Most results (1–10).
    pub limit: usize,
}

/// An answer and who gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Served<T> {
    /// The answer.
    pub value: T,
    /// Who answered.
    pub source: Source,
}

/// `1 h 5 min`, `12 min`.
pub fn duration_text(seconds: f64) -> String {
    let minutes = minutes_of(seconds);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Whole minutes, at least 1 for any distance to go.
pub fn minutes_of(seconds: f64) -> i64 {
    if !seconds.is_finite() || seconds <= 0.0 {
        return 0;
    }
    // Seconds of a route are far below i64's range.
    #[expect(clippy::cast_possible_truncation, reason = "bounded above")]
    let minutes = (seconds / 60.0).round().clamp(1.0, 1.0e9) as i64;
    minutes
}

/// Whole kilometres.
pub fn km_of(metres: f64) -> i64 {
    #[expect(clippy::cast_possible_truncation, reason = "bounded above")]
    let km = (metres / 1_000.0).round().clamp(0.0, 1.0e9) as i64;
    km
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(duration_text(0.0), "0 min");
        assert_eq!(duration_text(20.0), "1 min");
        assert_eq!(duration_text(12.0 * 60.0), "12 min");
        assert_eq!(duration_text(3_600.0), "1 h");
        assert_eq!(duration_text(3_900.0), "1 h 5 min");
        assert_eq!(km_of(149_600.0), 150);
    }
}
