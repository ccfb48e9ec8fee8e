//! One `Range: bytes=…` header, RFC 9110: `a-b`, `a-`, `-n`. Several ranges are
//! answered with the whole file (allowed, and simpler than multipart/byteranges).

use basalt_core::files::ByteRange;

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    Whole,
    Part(ByteRange),
    Unsatisfiable,
}

pub fn parse(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, false) => {
            let Some(n) = num(b) else {
                return Wanted::Whole;
            };
            if n == 0 {
                return Wanted::Unsatisfiable;
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (false, true) => {
            let Some(s) = num(a) else {
                return Wanted::Whole;
            };
            (s, size.saturating_sub(1))
        }
        (false, false) => {
            let (Some(s), Some(e)) = (num(a), num(b)) else {
                return Wanted::Whole;
            };
            if e < s {
                return Wanted::Whole;
            }
            (s, e.min(size.saturating_sub(1)))
        }
        (true, true) => return Wanted::Whole,
    };
    if size == 0 || start >= size {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part(ByteRange {
        start,
        end: Some(end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> Wanted {
        Wanted::Part(ByteRange {
            start,
            end: Some(end),
        })
    }

    #[test]
    fn ranges() {
        assert_eq!(parse(None, 10), Wanted::Whole);
        assert_eq!(parse(Some("bytes=0-4"), 10), part(0, 4));
        assert_eq!(parse(Some("bytes=5-"), 10), part(5, 9));
        assert_eq!(parse(Some("bytes=-3"), 10), part(7, 9));
        assert_eq!(parse(Some("bytes=-30"), 10), part(0, 9));
        assert_eq!(parse(Some("bytes=2-100"), 10), part(2, 9));
        assert_eq!(parse(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(parse(Some("bytes=0-1,3-4"), 10), Wanted::Whole);
        assert_eq!(parse(Some("items=0-1"), 10), Wanted::Whole);
        assert_eq!(parse(Some("bytes=4-2"), 10), Wanted::Whole);
        assert_eq!(parse(Some("bytes=x-2"), 10), Wanted::Whole);
    }
}
