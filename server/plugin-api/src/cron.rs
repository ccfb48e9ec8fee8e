//! Five-field cron schedules (`minute hour day-of-month month day-of-week`, UTC, minute
//! resolution): `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, Sunday
//! as 0 or 7, and the macros `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
//! When both day of month and day of week are restricted, either matches (as in
//! classic cron). The one syntax of every schedule in Basalt: the backups setting,
//! plugins' cron jobs and scripts' `cronAdd`.

/// A parsed schedule: the allowed values of each field as bit sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    minute: u64,
    hour: u64,
    day: u64,
    month: u64,
    weekday: u64,
    /// Whether day of month and weekday were both restricted (then either matches).
    either_day: bool,
}

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = match text.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(format!(
                "schedule {text:?} needs five fields (minute hour day month weekday) or @hourly, @daily, @weekly, @monthly, @yearly"
            ));
        }
        let mut sets = [0u64; 5];
        for (i, part) in parts.iter().enumerate() {
            sets[i] = field(part, FIELDS[i])?;
        }
        // Sunday is 0 or 7.
        if sets[4] & (1 << 7) != 0 {
            sets[4] |= 1;
        }
        Ok(Schedule {
            minute: sets[0],
            hour: sets[1],
            day: sets[2],
            month: sets[3],
            weekday: sets[4] & 0x7f,
            either_day: parts[2] != "*" && parts[4] != "*",
        })
    }

    /// Whether the schedule matches the minute containing `unix_secs` (UTC).
    pub fn matches(&self, unix_secs: i64) -> bool {
        let days = unix_secs.div_euclid(86_400);
        let secs = unix_secs.rem_euclid(86_400);
        let (minute, hour) = ((secs / 60) % 60, secs / 3600);
        let (_, month, day) = civil(days);
        let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday
        let has = |set: u64, v: i64| set & (1 << v) != 0;
        let day_ok = if self.either_day {
            has(self.day, day) || has(self.weekday, weekday)
        } else {
            has(self.day, day) && has(self.weekday, weekday)
        };
        has(self.minute, minute) && has(self.hour, hour) && has(self.month, month) && day_ok
    }
}

fn field(text: &str, (name, lo, hi): (&str, u32, u32)) -> Result<u64, String> {
    let bad = || format!("{name} {text:?} is not valid ({lo}–{hi}, *, a-b, a,b, */n)");
    let mut set = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| bad())?),
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?),
                None => {
                    let v: u32 = r.parse().map_err(|_| bad())?;
                    (v, if item.contains('/') { hi } else { v })
                }
            },
        };
        if step == 0 || from < lo || to > hi || from > to {
            return Err(bad());
        }
        for v in (from..=to).step_by(step as usize) {
            set |= 1 << v;
        }
    }
    Ok(set)
}

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01 (Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_schedules() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        // 2024-02-29 12:30 UTC, a Thursday
        let t = 19_782 * 86_400 + 12 * 3600 + 30 * 60;
        assert!(Schedule::parse("*/15 * * * *").unwrap().matches(t));
        assert!(Schedule::parse("30 12 29 2 *").unwrap().matches(t));
        assert!(Schedule::parse("30 12 * * 4").unwrap().matches(t));
        assert!(!Schedule::parse("@hourly").unwrap().matches(t));
        assert!(Schedule::parse("30 12 1 * 4").unwrap().matches(t));
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("* * *").is_err());
    }

    #[test]
    fn parses_and_matches() {
        let at = 1_796_008_500; // 2026-11-30 03:15 UTC, a Monday
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
