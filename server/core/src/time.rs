//! Dates as PocketBase writes them: `YYYY-MM-DD HH:MM:SS.sssZ`, always UTC.
//!
//! Stored as text in that form, so that lexical order is chronological order.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3fZ";

pub fn format(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

pub fn now() -> String {
    format(Utc::now())
}

/// Parses the date forms PocketBase accepts (its own, RFC 3339, `YYYY-MM-DD HH:MM:SS`,
/// a bare `YYYY-MM-DD`) into a UTC instant.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&s.replacen(' ', "T", 1)) {
        return Some(t.with_timezone(&Utc));
    }
    let bare = s.trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(bare, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Normalizes any accepted date string to the stored form.
pub fn normalize(s: &str) -> Option<String> {
    parse(s).map(format)
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_common_forms() {
        assert_eq!(normalize("2024-01-02").unwrap(), "2024-01-02 00:00:00.000Z");
        assert_eq!(
            normalize("2024-01-02T03:04:05Z").unwrap(),
            "2024-01-02 03:04:05.000Z"
        );
        assert_eq!(
            normalize("2024-01-02 03:04:05.123Z").unwrap(),
            "2024-01-02 03:04:05.123Z"
        );
        assert_eq!(
            normalize("2024-01-02T03:04:05+02:00").unwrap(),
            "2024-01-02 01:04:05.000Z"
        );
        assert!(normalize("yesterday").is_none());
    }
}
