//! SQLite's `LIKE ... ESCAPE '\'` (ASCII case-insensitive, `%` and `_` wildcards) and
//! PocketBase's wrapping of `~` operands: a value without an unescaped `%` is escaped
//! and wrapped as `%value%`, so `~ "a_b"` means "contains a_b".

#[derive(Clone, Debug, PartialEq, Eq)]
enum P {
    /// `%`
    Any,
    /// `_`
    One,
    Lit(char),
}

/// A compiled LIKE pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// `None` when the pattern can match nothing (it ends with a lone escape).
    toks: Option<Vec<P>>,
}

impl Pattern {
    pub fn new(pattern: &str) -> Pattern {
        let mut toks = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            toks.push(match c {
                '%' => P::Any,
                '_' => P::One,
                '\\' => match chars.next() {
                    Some(n) => P::Lit(n),
                    None => return Pattern { toks: None },
                },
                c => P::Lit(c),
            });
        }
        Pattern { toks: Some(toks) }
    }

    /// Whether `text` matches, comparing ASCII letters case-insensitively.
    pub fn matches(&self, text: &str) -> bool {
        let Some(toks) = &self.toks else {
            return false;
        };
        let (mut t, mut p) = (0usize, 0usize);
        // After a `%`: where to resume in the pattern and the text on a mismatch.
        let mut star: Option<(usize, usize)> = None;
        loop {
            let next = text[t..].chars().next();
            let step = match (toks.get(p), next) {
                (Some(P::Any), _) => {
                    star = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                (Some(P::One), Some(c)) => Some(c),
                (Some(P::Lit(pc)), Some(c)) if pc.eq_ignore_ascii_case(&c) => Some(c),
                (None, None) => return true,
                _ => None,
            };
            if let Some(c) = step {
                t += c.len_utf8();
                p += 1;
                continue;
            }
            let Some((sp, st)) = star else {
                return false;
            };
            let Some(c) = text[st..].chars().next() else {
                return false;
            };
            star = Some((sp, st + c.len_utf8()));
            p = sp;
            t = st + c.len_utf8();
        }
    }
}

/// `text LIKE pattern ESCAPE '\'`.
pub fn matches(text: &str, pattern: &str) -> bool {
    Pattern::new(pattern).matches(text)
}

/// PocketBase's `wrapLikeParams` for one value.
pub fn wrap(value: &str) -> String {
    if contains_unescaped(value, '%') {
        return value.to_owned();
    }
    format!("%{}%", escape_unescaped(value, &['\\', '%', '_']))
}

fn contains_unescaped(s: &str, ch: char) -> bool {
    let mut prev = '\0';
    for c in s.chars() {
        if c == ch && prev != '\\' {
            return true;
        }
        prev = if c == '\\' && prev == '\\' { '\0' } else { c };
    }
    false
}

/// Prefixes every listed character not already preceded by a backslash with one.
/// Like PocketBase, it scans from the end, and a character that was just escaped
/// is not itself checked.
fn escape_unescaped(s: &str, special: &[char]) -> String {
    let rs: Vec<char> = s.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(rs.len() + 4);
    let mut pending = false;
    for i in (0..rs.len()).rev() {
        if pending {
            if rs[i] != '\\' {
                out.push('\\');
            }
            pending = false;
        } else if special.contains(&rs[i]) {
            pending = true;
        }
        out.push(rs[i]);
        if i == 0 && pending {
            out.push('\\');
        }
    }
    out.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_case() {
        assert!(matches("Hello", "h%"));
        assert!(matches("Hello", "%LL%"));
        assert!(matches("Hello", "H_llo"));
        assert!(!matches("Hello", "H_lo"));
        assert!(matches("", "%"));
        assert!(!matches("", "_"));
        assert!(!matches("ÄbC", "äbc"));
        assert!(matches("ÄbC", "Äbc"));
        assert!(matches("a%b", "a\\%b"));
        assert!(!matches("axb", "a\\%b"));
        assert!(!matches("abc", "abc\\"));
        assert!(matches("aaab", "%a%b"));
        assert!(matches("mississippi", "%iss%ppi"));
        assert!(!matches("mississippi", "%iss%ppx"));
        assert!(matches("日本語", "_本_"));
    }

    #[test]
    fn wrap_escapes_and_wraps_without_percent() {
        assert_eq!(wrap("abc"), "%abc%");
        assert_eq!(wrap("a_b"), "%a\\_b%");
        assert_eq!(wrap("a\\b"), "%a\\\\b%");
        assert_eq!(wrap("_x"), "%\\_x%");
        assert_eq!(wrap("a\\_b"), "%a\\_b%");
        assert_eq!(wrap("a%"), "a%");
        assert_eq!(wrap("a\\%"), "%a\\%%");
        assert!(matches("xa_by", &wrap("a_b")));
        assert!(!matches("xacby", &wrap("a_b")));
        assert!(matches("a\\b", &wrap("a\\b")));
        assert!(matches("TEST2", &wrap("%test2")));
    }
}
