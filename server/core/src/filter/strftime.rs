//! SQLite's `strftime(format, time-value, modifiers...)` over UTC, as PocketBase's
//! `strftime()` filter function uses it: every time-value form of
//! <https://sqlite.org/lang_datefunc.html>, the common modifiers, and every format
//! substitution. Anything SQLite would reject yields `None` (SQL NULL).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use super::sql::{real_to_text, Sql};

const UNIX_EPOCH_JD: f64 = 2_440_587.5;
const MS_PER_DAY: f64 = 86_400_000.0;

/// A time-value before modifiers: numbers stay numbers until a modifier (or the
/// default, Julian day) says what they count.
enum Time {
    At(NaiveDateTime),
    Number(f64),
}

fn from_jd(jd: f64) -> Option<NaiveDateTime> {
    if !(0.0..=5_373_484.5).contains(&jd) {
        return None;
    }
    let ms = ((jd - UNIX_EPOCH_JD) * MS_PER_DAY).round() as i64;
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.naive_utc())
}

fn from_unix(secs: f64) -> Option<NaiveDateTime> {
    DateTime::<Utc>::from_timestamp_millis((secs * 1000.0).round() as i64).map(|t| t.naive_utc())
}

fn to_jd(t: NaiveDateTime) -> f64 {
    t.and_utc().timestamp_millis() as f64 / MS_PER_DAY + UNIX_EPOCH_JD
}

fn parse_hms(s: &str) -> Option<NaiveTime> {
    let (hm, frac) = match s.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (a, f),
        Some(_) => return None,
        None => (s, ""),
    };
    let parts: Vec<&str> = hm.split(':').collect();
    let two = |p: &str| (p.len() == 2).then(|| p.parse::<u32>().ok()).flatten();
    let (h, m, sec) = match parts.as_slice() {
        [h, m] if frac.is_empty() => (two(h)?, two(m)?, 0),
        [h, m, s] => (two(h)?, two(m)?, two(s)?),
        _ => return None,
    };
    let ms: u32 = format!("{frac:0<3}")[..3].parse().ok()?;
    NaiveTime::from_hms_milli_opt(h, m, sec, ms)
}

/// Parses the text time-values: `YYYY-MM-DD[( |T)HH:MM[:SS[.SSS]]][Z|±HH:MM]`,
/// `HH:MM[:SS[.SSS]]` (on 2000-01-01), `now`, and numeric text.
fn parse_text(s: &str, now: NaiveDateTime) -> Option<Time> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("now") {
        return Some(Time::At(now));
    }
    if let Ok(n) = s.parse::<f64>() {
        return n.is_finite().then_some(Time::Number(n));
    }
    let (body, offset) = split_zone(s)?;
    let (date, time) = if body.len() >= 10 && body.as_bytes().get(4) == Some(&b'-') {
        let date = NaiveDate::parse_from_str(body.get(..10)?, "%Y-%m-%d").ok()?;
        let rest = &body[10..];
        let time = match rest.chars().next() {
            None => NaiveTime::MIN,
            Some(' ' | 'T') => parse_hms(rest[1..].trim_start())?,
            _ => return None,
        };
        (date, time)
    } else {
        (NaiveDate::from_ymd_opt(2000, 1, 1)?, parse_hms(body)?)
    };
    Some(Time::At(date.and_time(time) - offset))
}

fn split_zone(s: &str) -> Option<(&str, Duration)> {
    if let Some(body) = s.strip_suffix(['Z', 'z']) {
        return Some((body.trim_end(), Duration::zero()));
    }
    let n = s.len();
    if n > 6 && s.is_char_boundary(n - 6) {
        let tail = &s[n - 6..];
        let b = tail.as_bytes();
        if matches!(b[0], b'+' | b'-') && b[3] == b':' && s.contains(':') && n > 16 {
            let h: i64 = tail[1..3].parse().ok()?;
            let m: i64 = tail[4..6].parse().ok()?;
            let d = Duration::minutes(h * 60 + m);
            let d = if b[0] == b'-' { -d } else { d };
            return Some((s[..n - 6].trim_end(), d));
        }
    }
    Some((s, Duration::zero()))
}

fn resolve(t: Time) -> Option<NaiveDateTime> {
    match t {
        Time::At(t) => Some(t),
        Time::Number(n) => from_jd(n),
    }
}

fn add_months(t: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    // SQLite normalizes an overflowing day forward (Jan 31 + 1 month = Mar 2/3).
    let total = i64::from(t.year()) * 12 + i64::from(t.month0()) + months;
    let (y, m0) = (total.div_euclid(12), total.rem_euclid(12));
    let first = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, u32::try_from(m0).ok()? + 1, 1)?;
    let date = first.checked_add_signed(Duration::days(i64::from(t.day()) - 1))?;
    Some(date.and_time(t.time()))
}

fn apply(t: Time, modifier: &str) -> Option<Time> {
    let m = modifier.trim().to_ascii_lowercase();
    match m.as_str() {
        "unixepoch" => match t {
            Time::Number(n) => from_unix(n).map(Time::At),
            Time::At(_) => None,
        },
        "julianday" => match t {
            Time::Number(n) => from_jd(n).map(Time::At),
            Time::At(_) => None,
        },
        "auto" => match t {
            Time::Number(n) if (0.0..5_373_484.5).contains(&n) => from_jd(n).map(Time::At),
            Time::Number(n) => from_unix(n).map(Time::At),
            at => Some(at),
        },
        "utc" | "localtime" | "subsec" | "subsecond" | "ceiling" | "floor" => Some(t),
        "start of day" => {
            let t = resolve(t)?;
            Some(Time::At(t.date().and_time(NaiveTime::MIN)))
        }
        "start of month" => {
            let t = resolve(t)?;
            Some(Time::At(t.date().with_day(1)?.and_time(NaiveTime::MIN)))
        }
        "start of year" => {
            let t = resolve(t)?;
            Some(Time::At(
                NaiveDate::from_ymd_opt(t.year(), 1, 1)?.and_time(NaiveTime::MIN),
            ))
        }
        _ => {
            if let Some(n) = m.strip_prefix("weekday ") {
                let want: u32 = n.trim().parse().ok().filter(|d| *d < 7)?;
                let t = resolve(t)?;
                let have = t.weekday().num_days_from_sunday();
                let ahead = (want + 7 - have) % 7;
                return Some(Time::At(t + Duration::days(i64::from(ahead))));
            }
            shift(resolve(t)?, &m).map(Time::At)
        }
    }
}

/// `±NNN unit` modifiers.
fn shift(t: NaiveDateTime, m: &str) -> Option<NaiveDateTime> {
    let (num, unit) = m.split_once(char::is_whitespace)?;
    let n: f64 = num.trim_start_matches('+').parse().ok()?;
    let unit = unit.trim().trim_end_matches('s');
    let ms = |per: f64| Duration::milliseconds((n * per).round() as i64);
    match unit {
        "second" => t.checked_add_signed(ms(1000.0)),
        "minute" => t.checked_add_signed(ms(60_000.0)),
        "hour" => t.checked_add_signed(ms(3_600_000.0)),
        "day" => t.checked_add_signed(ms(MS_PER_DAY)),
        "month" if n.fract() == 0.0 => add_months(t, n as i64),
        "year" if n.fract() == 0.0 => add_months(t, n as i64 * 12),
        "month" | "year" => {
            let whole = n.trunc();
            let t = add_months(t, whole as i64 * if unit == "year" { 12 } else { 1 })?;
            let days = if unit == "year" { 365.0 } else { 30.0 } * n.fract();
            t.checked_add_signed(Duration::milliseconds((days * MS_PER_DAY).round() as i64))
        }
        _ => None,
    }
}

fn iso_week(t: NaiveDateTime) -> (i32, u32) {
    let w = t.iso_week();
    (w.year(), w.week())
}

fn format(fmt: &str, t: NaiveDateTime) -> Option<String> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars();
    let secs = f64::from(t.second()) + f64::from(t.nanosecond() / 1_000_000) / 1000.0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let h12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let piece = match chars.next()? {
            'd' => format!("{:02}", t.day()),
            'e' => format!("{:2}", t.day()),
            'f' => format!("{secs:06.3}"),
            'F' => format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()),
            'G' => format!("{:04}", iso_week(t).0),
            'g' => format!("{:02}", iso_week(t).0.rem_euclid(100)),
            'H' => format!("{:02}", t.hour()),
            'I' => format!("{h12:02}"),
            'j' => format!("{:03}", t.ordinal()),
            'J' => real_to_text(to_jd(t)),
            'k' => format!("{:2}", t.hour()),
            'l' => format!("{h12:2}"),
            'm' => format!("{:02}", t.month()),
            'M' => format!("{:02}", t.minute()),
            'p' => (if t.hour() < 12 { "AM" } else { "PM" }).into(),
            'P' => (if t.hour() < 12 { "am" } else { "pm" }).into(),
            'R' => format!("{:02}:{:02}", t.hour(), t.minute()),
            's' => t.and_utc().timestamp().to_string(),
            'S' => format!("{:02}", t.second()),
            'T' => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
            'u' => t.weekday().number_from_monday().to_string(),
            'w' => t.weekday().num_days_from_sunday().to_string(),
            'U' => format!(
                "{:02}",
                (t.ordinal0() + 7 - t.weekday().num_days_from_sunday()) / 7
            ),
            'W' => format!(
                "{:02}",
                (t.ordinal0() + 7 - t.weekday().num_days_from_monday()) / 7
            ),
            'V' => format!("{:02}", iso_week(t).1),
            'Y' => format!("{:04}", t.year()),
            '%' => "%".into(),
            _ => return None,
        };
        out.push_str(&piece);
    }
    Some(out)
}

/// `strftime(fmt, time, modifiers...)`; `time` `None` means `now`.
pub fn strftime(
    fmt: &str,
    time: Option<&Sql>,
    modifiers: &[String],
    now: NaiveDateTime,
) -> Option<String> {
    let mut t = match time {
        None => Time::At(now),
        Some(Sql::Null) => return None,
        Some(Sql::Int(i)) => Time::Number(*i as f64),
        Some(Sql::Real(r)) => Time::Number(*r),
        Some(Sql::Text(s)) => parse_text(s, now)?,
    };
    for m in modifiers {
        t = apply(t, m)?;
    }
    let t = resolve(t)?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    format(fmt, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn run(fmt: &str, time: &str, mods: &[&str]) -> Option<String> {
        let now = crate::time::parse("2024-05-06 07:08:09.123Z")
            .unwrap()
            .naive_utc();
        let mods: Vec<String> = mods.iter().map(|s| s.to_string()).collect();
        strftime(fmt, Some(&Sql::Text(Cow::Borrowed(time))), &mods, now)
    }

    #[test]
    fn formats_stored_dates() {
        let t = "2024-03-01 13:04:05.678Z";
        assert_eq!(run("%Y-%m", t, &[]).unwrap(), "2024-03");
        assert_eq!(
            run("%d %e|%H %k|%I %l %p %P", t, &[]).unwrap(),
            "01  1|13 13|01  1 PM pm"
        );
        assert_eq!(
            run("%f|%S|%M|%R|%T", t, &[]).unwrap(),
            "05.678|05|04|13:04|13:04:05"
        );
        assert_eq!(
            run("%j|%w|%u|%F|%%", t, &[]).unwrap(),
            "061|5|5|2024-03-01|%"
        );
        assert_eq!(run("%s", "1970-01-02", &[]).unwrap(), "86400");
        assert_eq!(run("%G-%V|%g", "2021-01-03", &[]).unwrap(), "2020-53|20");
        assert_eq!(run("%U|%W", "2023-01-01", &[]).unwrap(), "01|00");
        assert_eq!(run("%U|%W", "2024-01-07", &[]).unwrap(), "01|01");
        assert_eq!(run("%J", "2000-01-01 12:00:00", &[]).unwrap(), "2451545.0");
        assert!(run("%Q", t, &[]).is_none());
        assert!(run("%Y", "garbage", &[]).is_none());
    }

    #[test]
    fn parses_time_values() {
        assert_eq!(
            run("%F %T", "2024-03-01T10:11", &[]).unwrap(),
            "2024-03-01 10:11:00"
        );
        assert_eq!(
            run("%F %T", "2024-03-01 10:11:12+02:00", &[]).unwrap(),
            "2024-03-01 08:11:12"
        );
        assert_eq!(
            run("%F %T", "10:11:12", &[]).unwrap(),
            "2000-01-01 10:11:12"
        );
        assert_eq!(run("%F", "now", &[]).unwrap(), "2024-05-06");
        assert_eq!(run("%F", "2451545", &[]).unwrap(), "2000-01-01");
        assert_eq!(
            run("%F %T", "86400", &["unixepoch"]).unwrap(),
            "1970-01-02 00:00:00"
        );
    }

    #[test]
    fn applies_modifiers() {
        let t = "2024-01-31 10:00:00";
        assert_eq!(run("%F", t, &["+1 month"]).unwrap(), "2024-03-02");
        assert_eq!(run("%F", t, &["start of month"]).unwrap(), "2024-01-01");
        assert_eq!(
            run("%F %T", t, &["start of day"]).unwrap(),
            "2024-01-31 00:00:00"
        );
        assert_eq!(
            run("%F", t, &["start of year", "+2 days"]).unwrap(),
            "2024-01-03"
        );
        assert_eq!(run("%F", t, &["weekday 0"]).unwrap(), "2024-02-04");
        assert_eq!(
            run("%F %T", t, &["-90 minutes"]).unwrap(),
            "2024-01-31 08:30:00"
        );
        assert_eq!(run("%F", t, &["+1 year"]).unwrap(), "2025-01-31");
        assert!(run("%F", t, &["+1 fortnight"]).is_none());
    }
}
