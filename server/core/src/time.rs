//! Dates as PocketBase writes them: `YYYY-MM-DD HH:MM:SS.sssZ`, always UTC.
//!
//! Stored as text in that form, so that lexical order is chronological order.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};

pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3fZ";

pub fn format(t: DateTime<Utc>) -> String {
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format(FORMAT).to_string();
    }
    // By hand: chrono's formatter interprets `FORMAT` on every call, and every record
    // written and every request logged formats a date or two.
    let mut out = String::with_capacity(24);
    push_digits(&mut out, year.unsigned_abs(), 4);
    // A leap second's fraction is past 1000 ms: chrono prints it modulo the second.
    let millis = t.timestamp_subsec_millis() % 1000;
    for (sep, n, width) in [
        ('-', t.month(), 2),
        ('-', t.day(), 2),
        (' ', t.hour(), 2),
        (':', t.minute(), 2),
        (':', t.second(), 2),
        ('.', millis, 3),
    ] {
        out.push(sep);
        push_digits(&mut out, n, width);
    }
    out.push('Z');
    out
}

/// `n` in decimal, zero-padded to `width` digits (the lowest ones if it has more).
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (n / 10u32.pow(place) % 10) as u8;
        out.push(char::from(b'0' + digit));
    }
}

pub fn now() -> String {
    format(Utc::now())
}

/// [`format`] for a clock reading taken earlier.
pub fn format_system(t: std::time::SystemTime) -> String {
    format(t.into())
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

    #[test]
    fn formats_exactly_like_chrono() {
        let mut t: i64 = 1;
        // Instants from 1970 to far past 9999 (chrono's fallback), millisecond steps
        // mixed in, every field's digits exercised.
        for step in 0..5_000i64 {
            t = t
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let millis = (t >> 1).rem_euclid(400_000_000_000_000) + step;
            let at = DateTime::from_timestamp_millis(millis).unwrap();
            assert_eq!(format(at), at.format(FORMAT).to_string(), "{millis}");
        }
        let epoch = DateTime::from_timestamp_millis(0).unwrap();
        assert_eq!(format(epoch), "1970-01-01 00:00:00.000Z");
    }
}
