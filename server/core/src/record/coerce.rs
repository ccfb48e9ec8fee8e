//! Value coercions exactly as PocketBase applies them to request bodies: numbers from
//! numeric strings, booleans from `"true"`/`"1"`/`"t"`, text from numbers, string
//! lists from single values or JSON-encoded arrays, the date forms it understands.
//! Nothing here fails: what cannot be converted becomes the zero value, like PocketBase.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value as Json;

/// A number from any JSON value. Strings follow Go's `ParseFloat` (no surrounding
/// spaces, `_` between digits allowed, `Inf`/`NaN` accepted); anything else is 0.
pub fn to_float(raw: &Json) -> f64 {
    match raw {
        Json::Number(n) => n.as_f64().unwrap_or(0.0),
        Json::Bool(b) => f64::from(u8::from(*b)),
        Json::String(s) => parse_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `strconv.ParseFloat` on a decimal string; `None` where it errs (including
/// overflow to infinity, which Go reports as a range error).
pub fn parse_float(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let negative = s.starts_with('-');
    match unsigned.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" if unsigned.len() == s.len() => return Some(f64::NAN),
        "nan" => return None,
        _ => {}
    }
    let cleaned = strip_digit_underscores(s)?;
    if !cleaned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Removes `_` that sit between two digits; any other `_` makes the string invalid.
fn strip_digit_underscores(s: &str) -> Option<String> {
    if !s.contains('_') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'_' {
            out.push(char::from(b));
            continue;
        }
        let before = i > 0 && bytes[i - 1].is_ascii_digit();
        let after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !(before && after) {
            return None;
        }
    }
    Some(out)
}

/// A boolean: `true`, non-zero numbers, and Go's `ParseBool` true spellings
/// (`1 t T TRUE true True`); everything else is `false`.
pub fn to_bool(raw: &Json) -> bool {
    match raw {
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Json::String(s) => matches!(s.as_str(), "1" | "t" | "T" | "TRUE" | "true" | "True"),
        _ => false,
    }
}

/// Text: strings as they are, numbers without exponent (`1e21` → `"1000…"`), booleans
/// as `true`/`false`; `null`, arrays and objects become `""`.
pub fn to_text(raw: &Json) -> String {
    match raw {
        Json::String(s) => s.clone(),
        Json::Number(n) => format_float(n.as_f64().unwrap_or(0.0)),
        Json::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Go's `FormatFloat(n, 'f', -1, 64)`: shortest round-trip digits, no exponent.
pub fn format_float(n: f64) -> String {
    format!("{n}")
}

/// The unique non-empty strings of a value: a list, a single value, or a string
/// holding a JSON array of strings (`"[\"a\",\"b\"]"`). Order of first appearance.
pub fn to_unique_strings(raw: &Json) -> Vec<String> {
    let items = match raw {
        Json::Null | Json::Object(_) => Vec::new(),
        Json::String(s) if s.is_empty() => Vec::new(),
        Json::String(s) if s.contains('[') => {
            serde_json::from_str::<Vec<String>>(s).unwrap_or_else(|_| vec![s.clone()])
        }
        Json::Array(items) => items.iter().map(to_text).collect(),
        other => vec![to_text(other)],
    };
    unique_nonempty(items)
}

/// File names as the file field reads them: like [`to_unique_strings`], except that
/// list items are themselves read as single names (`[["a"]]` is `["a"]`).
pub fn to_file_names(raw: &Json) -> Vec<String> {
    match raw {
        Json::Array(items) => unique_nonempty(
            items
                .iter()
                .filter_map(|item| {
                    let mut names = to_unique_strings(item);
                    (names.len() == 1).then(|| names.remove(0))
                })
                .collect(),
        ),
        other => to_unique_strings(other),
    }
}

pub fn unique_nonempty(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// A json field value: strings that look like JSON (`"[1,2]"`, `"{…}"`, `"12"`,
/// `"null"`, `"true"`) are parsed, other strings are kept as JSON strings.
pub fn to_json_value(raw: &Json) -> Json {
    let Json::String(s) = raw else {
        return raw.clone();
    };
    let looks_like_json = matches!(s.as_str(), "null" | "true" | "false")
        || s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'"' | b'[' | b'{'));
    if looks_like_json {
        if let Ok(parsed) = serde_json::from_str::<Json>(s) {
            return parsed;
        }
    }
    Json::String(s.clone())
}

/// A date field value in the stored form, or `""` when `raw` is not a date
/// PocketBase understands (it silently clears invalid dates).
pub fn to_date(raw: &Json) -> String {
    match raw {
        Json::String(s) => parse_date(s).map(crate::time::format).unwrap_or_default(),
        Json::Number(_) | Json::Bool(_) => parse_date(&to_text(raw))
            .map(crate::time::format)
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Parses the date layouts PocketBase accepts (its own, RFC 3339 and the other common
/// layouts of Go's `cast.ToTime`). Strict like Go: no surrounding spaces, two-digit
/// months and days, upper-case `Z`.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    parse_iso(s).or_else(|| parse_textual(s))
}

/// `2006-01-02`, optionally followed by `T` or ` ` and `15:04:05[.fff]`, optionally
/// followed by a zone: `Z`, `±07:00`, `±0700`, ` ±07:00`, ` ±0700`, ` ±0700 MST`.
fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let date = NaiveDate::from_ymd_opt(
        digits(b, 0, 4)? as i32,
        digits_after(b, 4, b'-', 2)?,
        digits_after(b, 7, b'-', 2)?,
    )?;
    if b.len() == 10 {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc());
    }
    let t_sep = *b.get(10)?;
    if t_sep != b'T' && t_sep != b' ' {
        return None;
    }
    let (h, m, sec) = (
        digits(b, 11, 2)?,
        digits_after(b, 13, b':', 2)?,
        digits_after(b, 16, b':', 2)?,
    );
    let mut pos = 19;
    let mut nanos = 0u32;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if end == start {
            return None;
        }
        let frac = &s[start..end.min(start + 9)];
        nanos = frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32);
        pos = end;
    }
    let naive = date.and_hms_nano_opt(h, m, sec, nanos)?;
    let offset = parse_zone(&s[pos..], t_sep == b'T')?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The zone suffix of an ISO-like date; `t_form` = the `T` separator was used, which
/// allows fewer zone spellings (Go's RFC 3339 and `2006-01-02T15:04:05-0700`).
fn parse_zone(rest: &str, t_form: bool) -> Option<FixedOffset> {
    let utc = FixedOffset::east_opt(0);
    if rest.is_empty() || rest == "Z" {
        return utc;
    }
    let (spaced, rest) = match rest.strip_prefix(' ') {
        Some(r) if !t_form => (true, r),
        Some(_) => return None,
        None => (false, rest),
    };
    let (offset, name) = rest.split_at(rest.find(' ').unwrap_or(rest.len()));
    let b = offset.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = digits(b, 1, 2)? as i32;
    let minutes = match b.len() {
        5 => digits(b, 3, 2)?,
        6 if b[3] == b':' => digits(b, 4, 2)?,
        _ => return None,
    } as i32;
    if !name.is_empty() {
        // `2006-01-02 15:04:05.999999999 -0700 MST` (Go's `Time.String`).
        let zone = name.strip_prefix(' ')?;
        let upper = (3..=5).contains(&zone.len()) && zone.bytes().all(|c| c.is_ascii_uppercase());
        if !spaced || b.len() != 5 || !upper {
            return None;
        }
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn digits(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let part = b.get(at..at + len)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn digits_after(b: &[u8], at: usize, sep: u8, len: usize) -> Option<u32> {
    (*b.get(at)? == sep).then_some(())?;
    digits(b, at + 1, len)
}

/// RFC 1123/822/850, ANSIC, Unix and Ruby date layouts, and `02 Jan 2006`. Zone
/// abbreviations count as UTC, as Go does for zones it does not know.
fn parse_textual(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() || s.starts_with(' ') || s.ends_with(' ') || s.len() > 64 {
        return None;
    }
    const WITH_OFFSET: &[&str] = &[
        "%a, %d %b %Y %H:%M:%S %z",
        "%d %b %y %H:%M %z",
        "%a %b %d %H:%M:%S %z %Y",
    ];
    for layout in WITH_OFFSET {
        if let Ok(t) = DateTime::parse_from_str(s, layout) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let (stripped, had_zone) = strip_zone_name(s);
    const NAIVE_WITH_ZONE: &[&str] = &[
        "%a, %d %b %Y %H:%M:%S",
        "%d %b %y %H:%M",
        "%A, %d-%b-%y %H:%M:%S",
        "%a %b %e %H:%M:%S %Y",
    ];
    if had_zone {
        for layout in NAIVE_WITH_ZONE {
            if let Ok(t) = NaiveDateTime::parse_from_str(&stripped, layout) {
                return Some(t.and_utc());
            }
        }
        return None;
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%a %b %e %H:%M:%S %Y") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%d %b %Y")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Removes one all-capitals zone word (`MST`, `UTC`, `GMT`) from `s`.
fn strip_zone_name(s: &str) -> (String, bool) {
    let words: Vec<&str> = s.split(' ').collect();
    let is_zone =
        |w: &&str| (2..=5).contains(&w.len()) && w.bytes().all(|c| c.is_ascii_uppercase());
    match words.iter().rposition(is_zone) {
        Some(i) if i > 0 => {
            let mut kept = words.clone();
            kept.remove(i);
            (kept.join(" "), true)
        }
        _ => (s.to_owned(), false),
    }
}

#[cfg(test)]
#[path = "coerce_test.rs"]
mod tests;
