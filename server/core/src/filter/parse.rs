//! The filter grammar and its AST:
//!
//! ```text
//! expr    := and ("||" and)*
//! and     := primary ("&&" primary)*
//! primary := "(" expr ")" | operand SIGN operand
//! operand := identifier[:modifier] | 'text' | "text" | number | {:param}
//!          | function "(" [arg ("," arg)*] ")"
//! SIGN    := = != > >= < <= ~ !~  and their ?-prefixed any-of forms
//! ```
//!
//! `&&` binds tighter than `||`, as in SQL. `true`, `false` and `null` are identifiers
//! here; the compiler turns them into literals unless a field has that name. Every
//! limit below is checked while parsing, so no input can exhaust the stack.

use std::fmt;

use super::lex::{Lexer, Tok};
use crate::{Code, Error, Result};

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 8192;
/// The deepest parenthesis nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// The most comparisons one filter may hold (PocketBase's default expression limit).
pub const MAX_EXPRESSIONS: usize = 200;
/// The deepest nesting of function calls inside function arguments.
pub const MAX_FUNC_DEPTH: usize = 3;
/// The most arguments one function call may have.
pub const MAX_FUNC_ARGS: usize = 10;

pub fn bad(message: impl Into<String>) -> Error {
    Error::new(Code::InvalidFilter, message)
}

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

impl Op {
    fn parse(sign: &str) -> Option<(Op, bool)> {
        let (any, rest) = match sign.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, sign),
        };
        let op = match rest {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            "~" => Op::Like,
            "!~" => Op::NotLike,
            _ => return None,
        };
        Some((op, any))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Like => "~",
            Op::NotLike => "!~",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A field path, `@request.*`, `@collection.*`, a macro, or `true`/`false`/`null`.
    Ident(String),
    Text(String),
    /// The number as written (`-12.5`).
    Number(String),
    Param(String),
    Func {
        name: String,
        args: Vec<Operand>,
    },
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

/// Parses a filter into its AST.
pub fn parse(input: &str) -> Result<Ast> {
    if input.len() > MAX_FILTER_LEN {
        return Err(bad(format!(
            "the filter may be at most {MAX_FILTER_LEN} bytes long"
        )));
    }
    let mut lexer = Lexer::new(input);
    let mut toks = Vec::new();
    while let Some(t) = lexer.next_token()? {
        toks.push(t);
    }
    if toks.is_empty() {
        return Err(bad("empty filter expression"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        exprs: 0,
    };
    let ast = p.expr(0)?;
    if let Some(t) = p.toks.get(p.pos) {
        return Err(bad(format!("expected && or ||, got {}", describe(t))));
    }
    Ok(ast)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    exprs: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::And => "\"&&\"".into(),
        Tok::Or => "\"||\"".into(),
        Tok::Sign(s) => format!("operator \"{s}\""),
        Tok::Ident(s) | Tok::Func(s) => format!("identifier \"{s}\""),
        Tok::Number(s) => format!("number {s}"),
        Tok::Text(s) => format!("text {s:?}"),
        Tok::Param(s) => format!("placeholder {{:{s}}}"),
    }
}

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += usize::from(t.is_some());
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        let hit = self.toks.get(self.pos) == Some(t);
        self.pos += usize::from(hit);
        hit
    }

    fn expr(&mut self, depth: usize) -> Result<Ast> {
        let mut parts = vec![self.and(depth)?];
        while self.eat(&Tok::Or) {
            parts.push(self.and(depth)?);
        }
        Ok(collapse(parts, Ast::Or))
    }

    fn and(&mut self, depth: usize) -> Result<Ast> {
        let mut parts = vec![self.primary(depth)?];
        while self.eat(&Tok::And) {
            parts.push(self.primary(depth)?);
        }
        Ok(collapse(parts, Ast::And))
    }

    fn primary(&mut self, depth: usize) -> Result<Ast> {
        if self.eat(&Tok::LParen) {
            if depth >= MAX_DEPTH {
                return Err(bad(format!(
                    "the filter may nest parentheses at most {MAX_DEPTH} levels deep"
                )));
            }
            if self.eat(&Tok::RParen) {
                return Err(bad("empty parentheses"));
            }
            let inner = self.expr(depth + 1)?;
            if !self.eat(&Tok::RParen) {
                return Err(bad("missing closing parenthesis"));
            }
            return Ok(inner);
        }
        let left = self.operand(0, "left operand")?;
        let (op, any) = match self.next() {
            Some(Tok::Sign(s)) => {
                Op::parse(&s).ok_or_else(|| bad(format!("invalid operator \"{s}\"")))?
            }
            Some(t) => return Err(bad(format!("expected an operator, got {}", describe(&t)))),
            None => return Err(bad("incomplete filter expression: missing operator")),
        };
        let right = self.operand(0, "right operand")?;
        self.exprs += 1;
        if self.exprs > MAX_EXPRESSIONS {
            return Err(bad(format!(
                "the filter may have at most {MAX_EXPRESSIONS} expressions"
            )));
        }
        Ok(Ast::Cmp {
            left,
            op,
            any,
            right,
        })
    }

    fn operand(&mut self, func_depth: usize, what: &str) -> Result<Operand> {
        Ok(match self.next() {
            Some(Tok::Ident(s)) => Operand::Ident(s),
            Some(Tok::Text(s)) => Operand::Text(s),
            Some(Tok::Number(s)) => Operand::Number(s),
            Some(Tok::Param(s)) => Operand::Param(s),
            Some(Tok::Func(name)) => self.call(name, func_depth)?,
            Some(t) => return Err(bad(format!("expected {what}, got {}", describe(&t)))),
            None => return Err(bad(format!("incomplete filter expression: missing {what}"))),
        })
    }

    fn call(&mut self, name: String, func_depth: usize) -> Result<Operand> {
        if func_depth >= MAX_FUNC_DEPTH {
            return Err(bad(format!(
                "functions may be nested at most {MAX_FUNC_DEPTH} levels deep"
            )));
        }
        self.eat(&Tok::LParen);
        let mut args = Vec::new();
        if !self.eat(&Tok::RParen) {
            loop {
                args.push(self.operand(func_depth + 1, "a function argument")?);
                if args.len() > MAX_FUNC_ARGS {
                    return Err(bad(format!(
                        "function \"{name}\" may have at most {MAX_FUNC_ARGS} arguments"
                    )));
                }
                if self.eat(&Tok::RParen) {
                    break;
                }
                if !self.eat(&Tok::Comma) {
                    return Err(bad(format!(
                        "expected \",\" or \")\" in function \"{name}\""
                    )));
                }
            }
        }
        Ok(Operand::Func { name, args })
    }
}

fn collapse(mut parts: Vec<Ast>, wrap: fn(Vec<Ast>) -> Ast) -> Ast {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        wrap(parts)
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Ident(s) | Operand::Number(s) => f.write_str(s),
            Operand::Text(s) => write!(f, "\"{}\"", s.replace('"', "\\\"")),
            Operand::Param(s) => write!(f, "{{:{s}}}"),
            Operand::Func { name, args } => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Prints the filter so that parsing the output gives back an equal AST.
impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (parts, join) = match self {
            Ast::Cmp {
                left,
                op,
                any,
                right,
            } => {
                let q = if *any { "?" } else { "" };
                return write!(f, "{left} {q}{} {right}", op.as_str());
            }
            Ast::And(parts) => (parts, " && "),
            Ast::Or(parts) => (parts, " || "),
        };
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                f.write_str(join)?;
            }
            // An `&&` inside `||` needs no parentheses; everything else nested does.
            let bare = matches!(part, Ast::Cmp { .. })
                || (matches!(self, Ast::Or(_)) && matches!(part, Ast::And(_)));
            if bare {
                write!(f, "{part}")?;
            } else {
                write!(f, "({part})")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "parse_test.rs"]
mod tests;
