//! The comparison semantics of PocketBase filters, which compile to SQLite: values
//! carry SQLite storage classes and column affinities, and `=`/`!=` follow the
//! null-vs-empty normalizations of PocketBase's `resolveEqualExpr`.
//!
//! Results are three-valued (`None` is SQL NULL): it matters inside the match-all
//! check, where a NULL comparison does not count as a failing item.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::like;
use super::parse::Op;

/// A value as SQLite sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Sql<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
}

/// The affinity of an operand: stored columns have one, expressions have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Affinity {
    None,
    Text,
    Numeric,
}

/// What kind of SQL an operand compiles to in PocketBase; it decides how `=`, `!=`
/// and `~` treat empty values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A bound parameter (text, number, macro, `@request.*` value); remembers how Go
    /// would print it when `~` wraps it in `%`.
    Param(ParamKind),
    /// The `NULL` identifier (`null`, a missing `@request.*` value).
    Null,
    /// `true`/`false` (`1`/`0`), `:isset` results: known non-empty.
    Known,
    /// A column or expression without parameters.
    Ident,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Text,
    Real,
    Int,
    Bool,
}

/// How `=`/`!=` fall back when a side may be NULL (PocketBase's `NullFallback*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// Treat NULL like `''`.
    Auto,
    /// Compare with `IS`/`IS NOT` (json values, `:changed`, `geoDistance`).
    Disabled,
    /// Never a known non-empty value (`strftime`).
    Enforced,
}

/// An evaluated operand.
#[derive(Clone, Debug, PartialEq)]
pub struct Val<'a> {
    pub sql: Sql<'a>,
    pub aff: Affinity,
    pub kind: Kind,
}

impl<'a> Val<'a> {
    /// A bound parameter of the given kind, without column affinity.
    pub fn param(sql: Sql<'a>, pk: ParamKind) -> Val<'a> {
        Val {
            sql,
            aff: Affinity::None,
            kind: Kind::Param(pk),
        }
    }

    /// A truth value known while compiling.
    pub fn known(b: bool) -> Val<'a> {
        Val {
            sql: Sql::Int(i64::from(b)),
            aff: Affinity::None,
            kind: Kind::Known,
        }
    }

    pub fn ident(sql: Sql<'a>, aff: Affinity) -> Val<'a> {
        Val {
            sql,
            aff,
            kind: Kind::Ident,
        }
    }

    pub fn null() -> Val<'static> {
        Val {
            sql: Sql::Null,
            aff: Affinity::None,
            kind: Kind::Null,
        }
    }

    pub fn into_owned(self) -> Val<'static> {
        Val {
            sql: self.sql.into_owned(),
            aff: self.aff,
            kind: self.kind,
        }
    }

    fn empty_text() -> Val<'static> {
        Val {
            sql: Sql::Text(Cow::Borrowed("")),
            aff: Affinity::None,
            kind: Kind::Param(ParamKind::Text),
        }
    }
}

impl Sql<'_> {
    pub fn into_owned(self) -> Sql<'static> {
        match self {
            Sql::Null => Sql::Null,
            Sql::Int(i) => Sql::Int(i),
            Sql::Real(r) => Sql::Real(r),
            Sql::Text(t) => Sql::Text(Cow::Owned(t.into_owned())),
        }
    }

    /// The same value, borrowing its text.
    pub fn borrowed(&self) -> Sql<'_> {
        match self {
            Sql::Null => Sql::Null,
            Sql::Int(i) => Sql::Int(*i),
            Sql::Real(r) => Sql::Real(*r),
            Sql::Text(t) => Sql::Text(Cow::Borrowed(t.as_ref())),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Sql::Null)
    }

    /// A number as SQLite stores it in a NUMERIC column: integral values are integers.
    pub fn number(n: f64) -> Sql<'static> {
        if n.fract() == 0.0 && n.abs() < 9.2e18 {
            Sql::Int(n as i64)
        } else {
            Sql::Real(n)
        }
    }

    /// The text SQLite converts this value to (`CAST(x AS TEXT)`); `None` for NULL.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Sql::Null => None,
            Sql::Int(i) => Some(Cow::Owned(i.to_string())),
            Sql::Real(r) => Some(Cow::Owned(real_to_text(*r))),
            Sql::Text(t) => Some(Cow::Borrowed(t.as_ref())),
        }
    }

    /// SQLite's `LOWER()`: ASCII-only lowercasing of the text form.
    pub fn lower(&self) -> Sql<'static> {
        match self.to_text() {
            None => Sql::Null,
            Some(t) => Sql::Text(Cow::Owned(t.to_ascii_lowercase())),
        }
    }
}

/// SQLite's text form of a REAL (`%!.15g`, widened to 17 digits when 15 do not
/// round-trip): `5.0`, `0.1`, `1.0e+20`.
pub fn real_to_text(r: f64) -> String {
    if r.is_nan() {
        return String::new();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    let mut sci = format!("{r:.14e}");
    if sci.parse::<f64>().ok() != Some(r) {
        sci = format!("{r:.16e}");
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if negative { "-" } else { "" };
    if !(-4..15).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}.{rest}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    let (int, frac) = if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        ("0".to_owned(), format!("{zeros}{digits}"))
    } else {
        let p = point as usize;
        if digits.len() <= p {
            (
                format!("{digits}{}", "0".repeat(p - digits.len())),
                String::new(),
            )
        } else {
            (digits[..p].to_owned(), digits[p..].to_owned())
        }
    };
    let frac = if frac.is_empty() { "0".into() } else { frac };
    format!("{sign}{int}.{frac}")
}

/// SQLite's NUMERIC affinity applied to a text: well-formed numbers (surrounding
/// spaces allowed, no hex) become INTEGER or REAL; anything else stays text.
pub fn numeric_of(t: &str) -> Option<Sql<'static>> {
    let s = t.trim_matches(|c: char| c.is_ascii_whitespace());
    if !looks_numeric(s) {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Sql::Int(i));
    }
    s.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(Sql::number)
}

fn looks_numeric(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut any = i > digits_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        any |= i > frac;
    }
    if !any {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        let exp = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp {
            return false;
        }
    }
    i == b.len()
}

fn to_numeric<'a, 'b>(v: &'b Sql<'a>) -> Cow<'b, Sql<'a>> {
    match v {
        Sql::Text(t) => numeric_of(t).map_or(Cow::Borrowed(v), Cow::Owned),
        _ => Cow::Borrowed(v),
    }
}

fn to_textual<'a, 'b>(v: &'b Sql<'a>) -> Cow<'b, Sql<'a>> {
    match v {
        Sql::Int(_) | Sql::Real(_) => match v.to_text() {
            Some(t) => Cow::Owned(Sql::Text(Cow::Owned(t.into_owned()))),
            None => Cow::Borrowed(v),
        },
        _ => Cow::Borrowed(v),
    }
}

/// Applies SQLite's comparison affinity rules to both operands.
fn coerce<'a, 'b>(l: &'b Val<'a>, r: &'b Val<'a>) -> (Cow<'b, Sql<'a>>, Cow<'b, Sql<'a>>) {
    use Affinity::*;
    let (ls, rs) = (&l.sql, &r.sql);
    match (l.aff, r.aff) {
        (Numeric, Text | None) => (Cow::Borrowed(ls), to_numeric(rs)),
        (Text | None, Numeric) => (to_numeric(ls), Cow::Borrowed(rs)),
        (Text, None) => (Cow::Borrowed(ls), to_textual(rs)),
        (None, Text) => (to_textual(ls), Cow::Borrowed(rs)),
        _ => (Cow::Borrowed(ls), Cow::Borrowed(rs)),
    }
}

/// SQLite's ordering of two non-NULL values: numbers before texts, texts bytewise.
pub fn order(a: &Sql, b: &Sql) -> Option<Ordering> {
    match (a, b) {
        (Sql::Null, _) | (_, Sql::Null) => None,
        (Sql::Int(x), Sql::Int(y)) => Some(x.cmp(y)),
        (Sql::Int(x), Sql::Real(y)) => (*x as f64).partial_cmp(y),
        (Sql::Real(x), Sql::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Sql::Real(x), Sql::Real(y)) => x.partial_cmp(y),
        (Sql::Int(_) | Sql::Real(_), Sql::Text(_)) => Some(Ordering::Less),
        (Sql::Text(_), Sql::Int(_) | Sql::Real(_)) => Some(Ordering::Greater),
        (Sql::Text(x), Sql::Text(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
    }
}

fn cmp3(l: &Val, r: &Val) -> Option<Ordering> {
    let (a, b) = coerce(l, r);
    order(&a, &b)
}

/// `l IS r`: like `=`, but NULL equals NULL and never anything else.
fn is(l: &Val, r: &Val) -> bool {
    let (a, b) = coerce(l, r);
    match (a.is_null(), b.is_null()) {
        (true, true) => true,
        (false, false) => order(&a, &b) == Some(Ordering::Equal),
        _ => false,
    }
}

fn is_empty(v: &Val, f: Fallback) -> bool {
    v.kind == Kind::Null || (f == Fallback::Auto && empty_param(v))
}

fn empty_param(v: &Val) -> bool {
    let empty = match &v.sql {
        Sql::Null => true,
        Sql::Text(t) => t.is_empty(),
        _ => false,
    };
    matches!(v.kind, Kind::Param(_)) && empty
}

fn known(v: &Val, f: Fallback) -> bool {
    f != Fallback::Enforced
        && (v.kind == Kind::Known || (matches!(v.kind, Kind::Param(_)) && !empty_param(v)))
}

fn without_affinity<'a>(v: &Val<'a>) -> Val<'a> {
    let sql = if v.sql.is_null() {
        Sql::Text(Cow::Borrowed(""))
    } else {
        v.sql.clone()
    };
    Val::ident(sql, Affinity::None)
}

/// `=` (or `!=` when `negate`), following PocketBase's `resolveEqualExpr`.
fn equal(l: &Val, lf: Fallback, r: &Val, rf: Fallback, negate: bool) -> Option<bool> {
    if lf == Fallback::Disabled || rf == Fallback::Disabled {
        return Some(is(l, r) != negate);
    }
    let (le, re) = (is_empty(l, lf), is_empty(r, rf));
    if le && re {
        return Some(!negate);
    }
    let blank = Val::empty_text();
    if known(l, lf) || known(r, rf) {
        let l = if le { &blank } else { l };
        let r = if re { &blank } else { r };
        return if negate {
            Some(!is(l, r))
        } else {
            cmp3(l, r).map(|o| o == Ordering::Equal)
        };
    }
    if le || re {
        // `'' = x OR x IS NULL` / `'' IS NOT x AND x IS NOT NULL`
        let other = if le { r } else { l };
        let null = other.sql.is_null();
        return Some(if negate {
            !is(&blank, other) && !null
        } else {
            cmp3(&blank, other) == Some(Ordering::Equal) || null
        });
    }
    // COALESCE(l, '') = COALESCE(r, ''): no affinity survives COALESCE.
    let (l, r) = (without_affinity(l), without_affinity(r));
    Some(is(&l, &r) != negate)
}

/// `l LIKE r ESCAPE '\'`, with PocketBase's `%` wrapping of the right side.
fn like_expr(l: &Val, r: &Val) -> Option<bool> {
    let pattern = match r.kind {
        Kind::Param(pk) => like::wrap(&param_string(r, pk)),
        _ => format!("%{}%", r.sql.to_text()?),
    };
    let text = l.sql.to_text()?;
    Some(like::matches(&text, &pattern))
}

/// How Go's `cast.ToString` prints a parameter value.
fn param_string(v: &Val, pk: ParamKind) -> String {
    match (&v.sql, pk) {
        (Sql::Null, _) => String::new(),
        (Sql::Int(i), ParamKind::Bool) => (*i != 0).to_string(),
        (Sql::Int(i), _) => i.to_string(),
        (Sql::Real(r), _) => format!("{r}"),
        (Sql::Text(t), _) => t.to_string(),
    }
}

/// Evaluates `l <op> r`; `None` is SQL NULL.
pub fn compare(op: Op, l: &Val, lf: Fallback, r: &Val, rf: Fallback) -> Option<bool> {
    use Ordering::*;
    match op {
        Op::Eq => equal(l, lf, r, rf, false),
        Op::Ne => equal(l, lf, r, rf, true),
        Op::Like => like_expr(l, r),
        Op::NotLike => like_expr(l, r).map(|m| !m),
        Op::Gt => cmp3(l, r).map(|o| o == Greater),
        Op::Ge => cmp3(l, r).map(|o| o != Less),
        Op::Lt => cmp3(l, r).map(|o| o == Less),
        Op::Le => cmp3(l, r).map(|o| o != Greater),
    }
}

#[cfg(test)]
#[path = "sql_test.rs"]
mod tests;
