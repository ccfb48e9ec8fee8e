//! Lexer and parser of the filter grammar:
//!
//! ```text
//! expr    := and ("||" and)*
//! and     := primary ("&&" primary)*
//! primary := "(" expr ")" | operand OP operand
//! operand := identifier[:modifier] | 'string' | "string" | number | true | false | null | {:param}
//! OP      := = != > >= < <= ~ !~  and their ?-prefixed any-of forms
//! ```

use crate::value::Value;
use crate::{Code, Error, Result};

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 8192;
/// The deepest parenthesis nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// The most comparisons one filter may hold.
pub const MAX_COMPARISONS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Literal(Value),
    Ident(String),
    Param(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ast {
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Cmp {
        left: Operand,
        op: Op,
        any: bool,
        right: Operand,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Op(Op, bool),
    Operand(Operand),
}

pub fn bad(message: impl Into<String>) -> Error {
    Error::new(Code::InvalidFilter, message)
}

fn lex(input: &str) -> Result<Vec<Tok>> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            '&' if next == Some('&') => {
                toks.push(Tok::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                toks.push(Tok::Or);
                i += 2;
            }
            '\'' | '"' => {
                let (s, end) = lex_string(&chars, i)?;
                toks.push(Tok::Operand(Operand::Literal(Value::Text(s))));
                i = end;
            }
            '{' if next == Some(':') => {
                let start = i + 2;
                let end = (start..chars.len())
                    .find(|&j| chars[j] == '}')
                    .ok_or_else(|| bad("unterminated {:param} placeholder"))?;
                let name: String = chars[start..end].iter().collect();
                if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(bad(format!("invalid placeholder name \"{name}\"")));
                }
                toks.push(Tok::Operand(Operand::Param(name)));
                i = end + 1;
            }
            '?' | '=' | '!' | '>' | '<' | '~' => {
                let any = c == '?';
                let j = if any { i + 1 } else { i };
                let (op, len) = match (chars.get(j), chars.get(j + 1)) {
                    (Some('='), _) => (Op::Eq, 1),
                    (Some('!'), Some('=')) => (Op::Ne, 2),
                    (Some('!'), Some('~')) => (Op::NotLike, 2),
                    (Some('>'), Some('=')) => (Op::Ge, 2),
                    (Some('>'), _) => (Op::Gt, 1),
                    (Some('<'), Some('=')) => (Op::Le, 2),
                    (Some('<'), _) => (Op::Lt, 1),
                    (Some('~'), _) => (Op::Like, 1),
                    _ => return Err(bad(format!("unexpected character '{c}' at position {i}"))),
                };
                toks.push(Tok::Op(op, any));
                i = j + len;
            }
            c if c.is_ascii_digit()
                || (c == '-' && next.is_some_and(|n| n.is_ascii_digit() || n == '.'))
                || c == '.' =>
            {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || chars[i] == '.'
                        || chars[i] == 'e'
                        || chars[i] == 'E')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n: f64 = text
                    .parse()
                    .map_err(|_| bad(format!("invalid number \"{text}\"")))?;
                toks.push(Tok::Operand(Operand::Literal(Value::Number(n))));
            }
            c if c.is_alphanumeric() || c == '_' || c == '@' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '@' | '.' | ':'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                toks.push(Tok::Operand(match word.as_str() {
                    "true" => Operand::Literal(Value::Bool(true)),
                    "false" => Operand::Literal(Value::Bool(false)),
                    "null" => Operand::Literal(Value::Null),
                    _ => Operand::Ident(word),
                }));
            }
            _ => return Err(bad(format!("unexpected character '{c}' at position {i}"))),
        }
    }
    Ok(toks)
}

fn lex_string(chars: &[char], start: usize) -> Result<(String, usize)> {
    let quote = chars[start];
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                let e = chars[i + 1];
                if e != quote && e != '\\' {
                    out.push('\\');
                }
                out.push(e);
                i += 2;
            }
            c if c == quote => return Ok((out, i + 1)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(bad("unterminated string literal"))
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    comparisons: usize,
}

pub fn parse(input: &str) -> Result<Ast> {
    if input.len() > MAX_FILTER_LEN {
        return Err(bad(format!(
            "the filter may be at most {MAX_FILTER_LEN} bytes"
        )));
    }
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err(bad("empty filter"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        comparisons: 0,
    };
    let ast = p.expr(0)?;
    if p.pos != p.toks.len() {
        return Err(bad("unexpected token after the end of the expression"));
    }
    Ok(ast)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn expr(&mut self, depth: usize) -> Result<Ast> {
        if depth > MAX_DEPTH {
            return Err(bad(format!(
                "the filter may nest at most {MAX_DEPTH} levels"
            )));
        }
        let mut parts = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ast::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Ast> {
        let mut parts = vec![self.primary(depth)?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.primary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ast::And(parts)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Ast> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.expr(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(bad("missing closing parenthesis"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Operand(left)) => {
                self.pos += 1;
                let Some(Tok::Op(op, any)) = self.toks.get(self.pos).cloned() else {
                    return Err(bad("expected a comparison operator after an operand"));
                };
                self.pos += 1;
                let Some(Tok::Operand(right)) = self.toks.get(self.pos).cloned() else {
                    return Err(bad("expected an operand after the operator"));
                };
                self.pos += 1;
                self.comparisons += 1;
                if self.comparisons > MAX_COMPARISONS {
                    return Err(bad(format!(
                        "the filter may hold at most {MAX_COMPARISONS} comparisons"
                    )));
                }
                Ok(Ast::Cmp {
                    left,
                    op,
                    any,
                    right,
                })
            }
            _ => Err(bad("expected an expression")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_precedence_and_quotes() {
        let ast = parse("a = 1 || b ?~ 'x\\'y' && (c != \"q\")").unwrap();
        let Ast::Or(parts) = ast else {
            panic!("expected or")
        };
        assert_eq!(parts.len(), 2);
        assert!(matches!(&parts[1], Ast::And(v) if v.len() == 2));
        assert!(parse("a = ").is_err());
        assert!(parse("(a = 1").is_err());
        assert!(parse("a >> 1").is_err());
        assert!(parse(&"(".repeat(100)).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_grammar_soup(parts in prop::collection::vec(prop::sample::select(vec![
            "a", "b.c", "(", ")", "&&", "||", "=", "?=", "!~", ">=", "'s'", "\"d\"", "1", "-2.5", "null", "{:p}", "@now", ":each", "\\",
        ]), 0..40)) {
            let _ = parse(&parts.join(" "));
        }
    }
}
