//! The UTC date macros (`@now`, `@todayStart`, ...). Date macros are texts in the
//! stored date form, so they compare with date fields as texts; the number macros
//! (`@hour`, ...) are integers.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

use super::sql::{Affinity, Kind, ParamKind, Sql, Val};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Macro {
    Now,
    Second,
    Minute,
    Hour,
    Weekday,
    Day,
    Month,
    Year,
    Yesterday,
    Tomorrow,
    TodayStart,
    TodayEnd,
    MonthStart,
    MonthEnd,
    YearStart,
    YearEnd,
}

const ALL: [(&str, Macro); 16] = [
    ("@now", Macro::Now),
    ("@second", Macro::Second),
    ("@minute", Macro::Minute),
    ("@hour", Macro::Hour),
    ("@weekday", Macro::Weekday),
    ("@day", Macro::Day),
    ("@month", Macro::Month),
    ("@year", Macro::Year),
    ("@yesterday", Macro::Yesterday),
    ("@tomorrow", Macro::Tomorrow),
    ("@todayStart", Macro::TodayStart),
    ("@todayEnd", Macro::TodayEnd),
    ("@monthStart", Macro::MonthStart),
    ("@monthEnd", Macro::MonthEnd),
    ("@yearStart", Macro::YearStart),
    ("@yearEnd", Macro::YearEnd),
];

fn day_start(d: NaiveDate) -> Option<DateTime<Utc>> {
    d.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

fn text(t: DateTime<Utc>) -> Val<'static> {
    Val {
        sql: Sql::Text(Cow::Owned(crate::time::format(t))),
        aff: Affinity::None,
        kind: Kind::Param(ParamKind::Text),
    }
}

fn int(n: u32) -> Val<'static> {
    Val {
        sql: Sql::Int(i64::from(n)),
        aff: Affinity::None,
        kind: Kind::Param(ParamKind::Int),
    }
}

thread_local! {
    /// The last instant (in ms) macros were computed for, and their values then.
    static CACHE: std::cell::RefCell<(i64, [Option<Val<'static>>; 16])> =
        const { std::cell::RefCell::new((i64::MIN, [const { None }; 16])) };
}

impl Macro {
    /// [`Macro::value`], reusing this thread's values while the millisecond lasts.
    pub fn cached_value(self, now: DateTime<Utc>) -> Val<'static> {
        let ms = now.timestamp_millis();
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.0 != ms {
                *c = (ms, [const { None }; 16]);
            }
            c.1[self as usize]
                .get_or_insert_with(|| self.value(now))
                .clone()
        })
    }

    pub fn parse(name: &str) -> Option<Macro> {
        ALL.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// The value at `now`.
    pub fn value(self, now: DateTime<Utc>) -> Val<'static> {
        let today = now.date_naive();
        let end = |next_start: Option<DateTime<Utc>>| {
            text(next_start.map_or(now, |t| t - Duration::milliseconds(1)))
        };
        let first_of = |y: i32, m: u32| Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single();
        match self {
            Macro::Now => text(now),
            Macro::Second => int(now.second()),
            Macro::Minute => int(now.minute()),
            Macro::Hour => int(now.hour()),
            Macro::Weekday => int(now.weekday().num_days_from_sunday()),
            Macro::Day => int(now.day()),
            Macro::Month => int(now.month()),
            Macro::Year => int(now.year().unsigned_abs()),
            Macro::Yesterday => text(now - Duration::days(1)),
            Macro::Tomorrow => text(now + Duration::days(1)),
            Macro::TodayStart => text(day_start(today).unwrap_or(now)),
            Macro::TodayEnd => end(today.succ_opt().and_then(day_start)),
            Macro::MonthStart => text(first_of(now.year(), now.month()).unwrap_or(now)),
            Macro::MonthEnd => end(if now.month() == 12 {
                first_of(now.year() + 1, 1)
            } else {
                first_of(now.year(), now.month() + 1)
            }),
            Macro::YearStart => text(first_of(now.year(), 1).unwrap_or(now)),
            Macro::YearEnd => end(first_of(now.year() + 1, 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        crate::time::parse(s).unwrap()
    }

    fn shown(v: Val) -> String {
        match v.sql {
            Sql::Text(t) => t.into_owned(),
            Sql::Int(i) => i.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn every_macro_at_a_fixed_instant() {
        let now = at("2024-02-29 13:14:15.678Z");
        let cases = [
            ("@now", "2024-02-29 13:14:15.678Z"),
            ("@second", "15"),
            ("@minute", "14"),
            ("@hour", "13"),
            ("@weekday", "4"),
            ("@day", "29"),
            ("@month", "2"),
            ("@year", "2024"),
            ("@yesterday", "2024-02-28 13:14:15.678Z"),
            ("@tomorrow", "2024-03-01 13:14:15.678Z"),
            ("@todayStart", "2024-02-29 00:00:00.000Z"),
            ("@todayEnd", "2024-02-29 23:59:59.999Z"),
            ("@monthStart", "2024-02-01 00:00:00.000Z"),
            ("@monthEnd", "2024-02-29 23:59:59.999Z"),
            ("@yearStart", "2024-01-01 00:00:00.000Z"),
            ("@yearEnd", "2024-12-31 23:59:59.999Z"),
        ];
        for (name, want) in cases {
            let m = Macro::parse(name).unwrap();
            assert_eq!(shown(m.value(now)), want, "{name}");
        }
        assert_eq!(
            shown(Macro::MonthEnd.value(at("2023-12-05 01:00:00Z"))),
            "2023-12-31 23:59:59.999Z"
        );
        assert!(Macro::parse("@later").is_none());
    }
}
