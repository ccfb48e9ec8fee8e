//! The filter tokenizer, following the lexical rules of PocketBase's `fexpr` scanner:
//!
//! - identifiers start with an ASCII letter, `@`, `_` or `#`, continue with letters,
//!   digits, `_`, `.` and `:`, and may not end with `.` or `:`; one directly followed
//!   by `(` is a function call;
//! - numbers are `-?digits(.digits)?` (no exponent, no leading or trailing dot);
//! - texts are single- or double-quoted; a backslash before the opening quote character
//!   escapes it and every other backslash is kept as is (so LIKE escapes survive);
//! - operators and joins are the longest run of their characters (`?!=`, `&&`);
//! - `//` starts a comment that runs to the end of the line;
//! - `{:name}` is a placeholder, filled from the compile parameters.

use super::parse::bad;
use crate::Result;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    LParen,
    RParen,
    Comma,
    And,
    Or,
    /// A comparison operator as written (`=`, `?!~`, ...).
    Sign(String),
    Ident(String),
    /// An identifier directly followed by `(`; the `(` is the next token.
    Func(String),
    Number(String),
    Text(String),
    Param(String),
}

pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '@' | '_' | '#')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':')
}

fn is_sign_char(c: char) -> bool {
    matches!(c, '=' | '?' | '!' | '>' | '<' | '~')
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.src[self.pos..].chars();
        it.next();
        it.next()
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !f(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.src[start..self.pos]
    }

    /// The next token, or `None` at the end of the input.
    pub fn next_token(&mut self) -> Result<Option<Tok>> {
        loop {
            self.take_while(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
            let Some(c) = self.peek() else {
                return Ok(None);
            };
            if c != '/' {
                return self.token(c).map(Some);
            }
            if self.peek2() != Some('/') {
                return Err(bad(format!("invalid comment at position {}", self.pos)));
            }
            self.take_while(|c| c != '\n');
        }
    }

    fn token(&mut self, c: char) -> Result<Tok> {
        let at = self.pos;
        let single = |lexer: &mut Lexer, tok| {
            lexer.pos += 1;
            Ok(tok)
        };
        match c {
            '(' => single(self, Tok::LParen),
            ')' => single(self, Tok::RParen),
            ',' => single(self, Tok::Comma),
            '\'' | '"' => self.text(c),
            '{' if self.peek2() == Some(':') => self.param(),
            c if is_ident_start(c) => self.ident(),
            c if c == '-' || c.is_ascii_digit() => self.number(),
            c if is_sign_char(c) => {
                let sign = self.take_while(is_sign_char);
                Ok(Tok::Sign(sign.to_owned()))
            }
            '&' | '|' => match self.take_while(|c| matches!(c, '&' | '|')) {
                "&&" => Ok(Tok::And),
                "||" => Ok(Tok::Or),
                other => Err(bad(format!("invalid join operator \"{other}\""))),
            },
            c => Err(bad(format!("unexpected character {c:?} at position {at}"))),
        }
    }

    fn ident(&mut self) -> Result<Tok> {
        let start = self.pos;
        self.pos += 1; // the start character is always one byte
        self.take_while(is_ident_char);
        let word = self.src[start..self.pos].to_owned();
        if !valid_ident(&word) {
            return Err(bad(format!("invalid identifier \"{word}\"")));
        }
        Ok(if self.peek() == Some('(') {
            Tok::Func(word)
        } else {
            Tok::Ident(word)
        })
    }

    fn number(&mut self) -> Result<Tok> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        let mut had_dot = false;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || (c == '.' && !had_dot) {
                had_dot |= c == '.';
                self.pos += 1;
            } else {
                break;
            }
        }
        let lit = &self.src[start..self.pos];
        let digits = lit.strip_prefix('-').unwrap_or(lit);
        if digits.is_empty() || digits.starts_with('.') || digits.ends_with('.') {
            return Err(bad(format!("invalid number \"{lit}\"")));
        }
        Ok(Tok::Number(lit.to_owned()))
    }

    fn text(&mut self, quote: char) -> Result<Tok> {
        let start = self.pos;
        self.pos += 1;
        let body_start = self.pos;
        let mut prev = '\0';
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            if c == quote && prev != '\\' {
                let body = &self.src[body_start..self.pos - 1];
                let escaped = format!("\\{quote}");
                return Ok(Tok::Text(body.replace(&escaped, &quote.to_string())));
            }
            prev = c;
        }
        let shown: String = self.src[start..].chars().take(40).collect();
        Err(bad(format!("unterminated quoted text {shown}")))
    }

    fn param(&mut self) -> Result<Tok> {
        self.pos += 2;
        let name = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        if name.is_empty() || self.peek() != Some('}') {
            return Err(bad("invalid {:placeholder}"));
        }
        self.pos += 1;
        Ok(Tok::Param(name.to_owned()))
    }
}

/// Whether `word` is a well-formed identifier as the scanner would produce it.
pub fn valid_ident(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    is_ident_start(first)
        && chars.all(is_ident_char)
        && !word.ends_with(['.', ':'])
        && (word.len() != 1 || first.is_ascii_alphabetic())
}
