//! Five-field cron expressions (`minute hour day-of-month month day-of-week`), as the
//! backups schedule in the settings uses them: `*`, numbers, ranges `a-b`, steps `*/n`
//! and `a-b/n`, lists `a,b`, and the macros `@hourly`, `@daily`, `@weekly`,
//! `@monthly`, `@yearly`. Evaluated in UTC.

use chrono::{Datelike, Timelike};

/// A parsed schedule: the allowed values of each field as bit sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    fields: [u64; 5],
}

const RANGES: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];

impl Schedule {
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = match expr.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let parts: Vec<&str> = expr.split_whitespace().collect();
        if parts.len() != 5 {
            return Err("a cron expression has 5 fields: minute hour day month weekday".into());
        }
        let mut fields = [0u64; 5];
        for (i, part) in parts.iter().enumerate() {
            fields[i] = field(part, RANGES[i])?;
        }
        Ok(Schedule { fields })
    }

    /// Whether the schedule fires in the minute of `at`.
    pub fn matches(&self, at: chrono::DateTime<chrono::Utc>) -> bool {
        let values = [
            at.minute(),
            at.hour(),
            at.day(),
            at.month(),
            at.weekday().num_days_from_sunday(),
        ];
        values
            .iter()
            .zip(self.fields)
            .all(|(v, bits)| bits & (1 << v) != 0)
    }
}

fn field(text: &str, (lo, hi): (u32, u32)) -> Result<u64, String> {
    let mut bits = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .map_err(|_| format!("bad step in {item:?}"))?,
            ),
            None => (item, 1),
        };
        if step == 0 {
            return Err(format!("bad step in {item:?}"));
        }
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (num(a, lo, hi)?, num(b, lo, hi)?)
        } else {
            let a = num(range, lo, hi)?;
            (a, if item.contains('/') { hi } else { a })
        };
        if a > b {
            return Err(format!("empty range {item:?}"));
        }
        let mut v = a;
        while v <= b {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

fn num(text: &str, lo: u32, hi: u32) -> Result<u32, String> {
    let n: u32 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if n < lo || n > hi {
        return Err(format!("{n} is outside {lo}-{hi}"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn parses_and_matches() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 3, 15, 0)
            .unwrap(); // a Monday
        assert!(Schedule::parse("15 3 * * *").unwrap().matches(at));
        assert!(Schedule::parse("*/5 * * * 1").unwrap().matches(at));
        assert!(Schedule::parse("0-20/15 1-4 30 11 *").unwrap().matches(at));
        assert!(!Schedule::parse("@daily").unwrap().matches(at));
        assert!(!Schedule::parse("14,16 * * * *").unwrap().matches(at));
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}
