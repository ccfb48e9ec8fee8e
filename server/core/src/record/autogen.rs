//! Random strings that match a regular expression: the `autogeneratePattern` of text
//! fields (`[a-z0-9]{15}` for record ids, `[a-zA-Z0-9]{50}` for token keys).
//!
//! Supports the usual generator subset: literals and escapes, `.`, classes with ranges
//! and negation, `\d \w \s`, groups with alternation, and the quantifiers `? * + {n}
//! {n,} {n,m}`; anchors are ignored. Unbounded repetitions stop after 10 extra items.

use rand::Rng;

const MAX_PATTERN: usize = 1000;
const MAX_REPEAT: u32 = 1000;
const MAX_OUTPUT: usize = 10_000;
const MAX_DEPTH: usize = 32;
const UNBOUNDED_EXTRA: u32 = 10;

#[derive(Debug)]
enum Node {
    Chars(Vec<(char, char)>),
    Group(Vec<Vec<Item>>),
    Empty,
}

#[derive(Debug)]
struct Item {
    node: Node,
    min: u32,
    max: u32,
}

/// A random string matching `pattern`; the error says why the pattern is unusable.
pub fn generate(pattern: &str) -> Result<String, String> {
    if pattern.len() > MAX_PATTERN {
        return Err(format!(
            "the pattern may be at most {MAX_PATTERN} characters"
        ));
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut p = Parser { chars, pos: 0 };
    let root = p.alternation(0)?;
    if p.pos < p.chars.len() {
        return Err(format!("unexpected '{}'", p.chars[p.pos]));
    }
    let mut out = String::new();
    let mut rng = rand::thread_rng();
    emit_alternatives(&root, &mut rng, &mut out)?;
    Ok(out)
}

fn emit_alternatives(
    alts: &[Vec<Item>],
    rng: &mut impl Rng,
    out: &mut String,
) -> Result<(), String> {
    let Some(seq) = alts.get(rng.gen_range(0..alts.len().max(1))) else {
        return Ok(());
    };
    for item in seq {
        let times = rng.gen_range(item.min..=item.max);
        for _ in 0..times {
            match &item.node {
                Node::Chars(ranges) => out.push(pick(ranges, rng)),
                Node::Group(inner) => emit_alternatives(inner, rng, out)?,
                Node::Empty => {}
            }
            if out.len() > MAX_OUTPUT {
                return Err("the pattern produces too long values".into());
            }
        }
    }
    Ok(())
}

fn pick(ranges: &[(char, char)], rng: &mut impl Rng) -> char {
    let total: u32 = ranges.iter().map(|(a, b)| *b as u32 - *a as u32 + 1).sum();
    let mut n = rng.gen_range(0..total.max(1));
    for (a, b) in ranges {
        let width = *b as u32 - *a as u32 + 1;
        if n < width {
            return char::from_u32(*a as u32 + n).unwrap_or(*a);
        }
        n -= width;
    }
    ranges.first().map_or('a', |r| r.0)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

const DIGITS: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const ALNUM: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('a', 'z')];
const PRINTABLE: (char, char) = ('!', '~');

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn alternation(&mut self, depth: usize) -> Result<Vec<Vec<Item>>, String> {
        if depth > MAX_DEPTH {
            return Err("the pattern nests too deeply".into());
        }
        let mut alts = vec![self.sequence(depth)?];
        while self.eat('|') {
            alts.push(self.sequence(depth)?);
        }
        Ok(alts)
    }

    fn sequence(&mut self, depth: usize) -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let node = self.atom(depth)?;
            let (min, max) = self.quantifier()?;
            items.push(Item { node, min, max });
        }
        Ok(items)
    }

    fn atom(&mut self, depth: usize) -> Result<Node, String> {
        let Some(c) = self.peek() else {
            return Ok(Node::Empty);
        };
        self.pos += 1;
        Ok(match c {
            '(' => {
                if self.eat('?') && !self.eat(':') {
                    return Err("only (?:…) groups are supported".into());
                }
                let inner = self.alternation(depth + 1)?;
                if !self.eat(')') {
                    return Err("missing closing )".into());
                }
                Node::Group(inner)
            }
            '[' => Node::Chars(self.class()?),
            '\\' => self.escape(false)?,
            '.' => Node::Chars(ALNUM.to_vec()),
            '^' | '$' => Node::Empty,
            '*' | '+' | '?' | '{' => return Err(format!("nothing to repeat before '{c}'")),
            other => Node::Chars(vec![(other, other)]),
        })
    }

    /// After a `\`. In a class, `\b` is a backspace; elsewhere it is an anchor.
    fn escape(&mut self, in_class: bool) -> Result<Node, String> {
        let c = self.peek().ok_or("trailing backslash")?;
        self.pos += 1;
        Ok(match c {
            'd' => Node::Chars(DIGITS.to_vec()),
            'w' => Node::Chars(WORD.to_vec()),
            's' => Node::Chars(vec![(' ', ' ')]),
            'n' => Node::Chars(vec![('\n', '\n')]),
            't' => Node::Chars(vec![('\t', '\t')]),
            'b' | 'B' | 'A' | 'z' if !in_class => Node::Empty,
            'D' | 'W' | 'S' | 'p' | 'P' => {
                return Err(format!("the escape \\{c} is not supported"));
            }
            c if c.is_ascii_alphanumeric() => {
                return Err(format!("the escape \\{c} is not supported"));
            }
            other => Node::Chars(vec![(other, other)]),
        })
    }

    fn class(&mut self) -> Result<Vec<(char, char)>, String> {
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or("missing closing ]")?;
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let start = if c == '\\' {
                match self.escape(true)? {
                    Node::Chars(set) if set.len() == 1 && set[0].0 == set[0].1 => set[0].0,
                    Node::Chars(set) => {
                        ranges.extend(set);
                        continue;
                    }
                    _ => continue,
                }
            } else {
                c
            };
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|n| *n != ']');
            if is_range {
                self.pos += 1;
                let mut end = self.peek().ok_or("missing closing ]")?;
                self.pos += 1;
                if end == '\\' {
                    end = self.peek().ok_or("trailing backslash")?;
                    self.pos += 1;
                }
                if end < start {
                    return Err(format!("invalid class range {start}-{end}"));
                }
                ranges.push((start, end));
            } else {
                ranges.push((start, start));
            }
        }
        if !negated {
            return Ok(ranges);
        }
        let kept: Vec<(char, char)> = (PRINTABLE.0..=PRINTABLE.1)
            .filter(|c| !ranges.iter().any(|(a, b)| (*a..=*b).contains(c)))
            .map(|c| (c, c))
            .collect();
        if kept.is_empty() {
            return Err("the negated class excludes every printable character".into());
        }
        Ok(kept)
    }

    fn quantifier(&mut self) -> Result<(u32, u32), String> {
        let bounds = match self.peek() {
            Some('?') => (0, 1),
            Some('*') => (0, UNBOUNDED_EXTRA),
            Some('+') => (1, 1 + UNBOUNDED_EXTRA),
            Some('{') => return self.braces(),
            _ => return Ok((1, 1)),
        };
        self.pos += 1;
        self.eat('?');
        Ok(bounds)
    }

    fn braces(&mut self) -> Result<(u32, u32), String> {
        self.pos += 1;
        let min = self.number()?;
        let max = if self.eat(',') {
            if self.peek() == Some('}') {
                min.saturating_add(UNBOUNDED_EXTRA)
            } else {
                self.number()?
            }
        } else {
            min
        };
        if !self.eat('}') {
            return Err("missing closing }".into());
        }
        self.eat('?');
        if max < min || max > MAX_REPEAT {
            return Err(format!("invalid repeat count {{{min},{max}}}"));
        }
        Ok((min, max))
    }

    fn number(&mut self) -> Result<u32, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        digits
            .parse::<u32>()
            .map_err(|_| "invalid repeat count".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn matches(pattern: &str) {
        let re = Regex::new(&format!("^(?:{pattern})$")).unwrap();
        for _ in 0..50 {
            let s = generate(pattern).unwrap();
            assert!(re.is_match(&s), "{pattern} produced {s:?}");
        }
    }

    #[test]
    fn generated_values_match_their_pattern() {
        for p in [
            "[a-z0-9]{15}",
            "[a-zA-Z0-9]{50}",
            "[a-z]{5}",
            r"\d{3}-\w{2,4}",
            "(foo|bar)_[0-9]+",
            "(?:ab)?c*",
            "^x[^a-z]{3}$",
            r"[\d_.-]{4}",
            "a.b",
            r"\.\*",
        ] {
            matches(p);
        }
    }

    #[test]
    fn unusable_patterns_are_reported() {
        for p in [
            "[a-z",
            "(ab",
            "*a",
            "a{3,1}",
            "a{99999}",
            r"\p{L}",
            "(?=a)",
            "[^\\x00-\\x{10FFFF}]",
            "a{2",
            r"\",
        ] {
            assert!(generate(p).is_err(), "{p}");
        }
        assert!(generate(&"a".repeat(1001)).is_err());
        assert!(
            generate("(((((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))")
                .is_err()
        );
        assert!(generate("(a{1000}){1000}").is_err());
    }
}
