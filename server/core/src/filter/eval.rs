//! Evaluating a compiled filter against a record.
//!
//! Multi-valued operands (multi relations, back-relations, multi selects) follow
//! PocketBase: a plain operator must hold for every value, a `?` operator for at least
//! one. An empty set compares as a single zero value.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use serde_json::Value as Json;

use super::compile::{
    json_to_value, Cmp, Field, Modifier, Node, Operand2, RequestPart, Source, Step,
};
use super::parse::Op;
use super::{Lookup, RequestInfo};
use crate::record::Record;
use crate::schema::Collection;
use crate::value::Value;
use crate::Result;

pub fn eval(node: &Node, record: &Record, lookup: &dyn Lookup, req: &RequestInfo) -> Result<bool> {
    match node {
        Node::And(v) => {
            for n in v {
                if !eval(n, record, lookup, req)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Node::Or(v) => {
            for n in v {
                if eval(n, record, lookup, req)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Node::Cmp(cmp) => {
            let Cmp {
                left,
                op,
                any,
                right,
            } = &**cmp;
            // Fast path: a direct field against a literal.
            if let (Some(l), Source::Literal(r)) = (direct(left, record), &right.source) {
                return Ok(compare(&l, *op, r));
            }
            let (lv, lmulti) = values(left, record, lookup, req)?;
            let (rv, rmulti) = values(right, record, lookup, req)?;
            let all = !*any && (lmulti || rmulti);
            let mut matched_any = false;
            for l in &lv {
                for r in &rv {
                    let ok = compare(l, *op, r);
                    if all && !ok {
                        return Ok(false);
                    }
                    matched_any |= ok;
                    if ok && !all {
                        return Ok(true);
                    }
                }
            }
            Ok(matched_any)
        }
    }
}

fn direct<'a>(o: &Operand2, record: &'a Record) -> Option<Cow<'a, Value>> {
    match (&o.source, &o.modifier) {
        (
            Source::Path {
                steps,
                field: Field::Pos(p),
                multiple: false,
                ..
            },
            Modifier::None,
        ) if steps.is_empty() => record.values.get(*p).map(Cow::Borrowed),
        _ => None,
    }
}

fn field_value(c: &Collection, r: &Record, f: &Field) -> Value {
    match f {
        Field::Pos(p) => r.values.get(*p).cloned().unwrap_or(Value::Null),
        Field::CollectionId => Value::Text(c.id.clone()),
        Field::CollectionName => Value::Text(c.name.clone()),
    }
}

/// Flattens list values into their items.
fn push_flat(out: &mut Vec<Value>, v: Value) {
    match v {
        Value::List(items) => out.extend(items),
        other => out.push(other),
    }
}

fn values(
    o: &Operand2,
    record: &Record,
    lookup: &dyn Lookup,
    req: &RequestInfo,
) -> Result<(Vec<Value>, bool)> {
    let (mut vals, multi) = match &o.source {
        Source::Literal(v) => (vec![v.clone()], false),
        Source::Macro(m) => (vec![Value::Text(macro_value(m))], false),
        Source::Path {
            steps,
            field,
            multiple,
            ..
        } => (path_values(steps, field, record, lookup)?, *multiple),
        Source::Collection { collection, field } => {
            let mut out = Vec::new();
            lookup.scan(collection, &mut |r| {
                push_flat(&mut out, field_value(collection, &r, field));
                true
            })?;
            (out, true)
        }
        Source::Request(part) => return request_values(part, &o.modifier, record, req),
    };
    let was_list_field = multi;
    match o.modifier {
        Modifier::Length => {
            return Ok((
                vec![Value::Number(
                    vals.iter().filter(|v| !v.is_zero()).count() as f64
                )],
                false,
            ))
        }
        Modifier::Lower => {
            for v in &mut vals {
                if let Value::Text(s) = v {
                    *s = s.to_lowercase();
                }
            }
        }
        _ => {}
    }
    if vals.is_empty() {
        vals.push(Value::Null);
    }
    Ok((vals, was_list_field || o.modifier == Modifier::Each))
}

fn path_values(
    steps: &[Step],
    field: &Field,
    record: &Record,
    lookup: &dyn Lookup,
) -> Result<Vec<Value>> {
    let mut current: Vec<Record> = vec![record.clone()];
    let mut coll: Option<std::sync::Arc<Collection>> = None;
    for step in steps {
        let mut next = Vec::new();
        match step {
            Step::Forward { pos, target } => {
                for r in &current {
                    for id in r.values.get(*pos).map(Value::strings).unwrap_or_default() {
                        if let Some(rel) = lookup.get(target, id)? {
                            next.push(rel);
                        }
                    }
                }
                coll = Some(target.clone());
            }
            Step::Back { source, pos } => {
                for r in &current {
                    next.extend(lookup.referencing(source, *pos, r.id())?);
                }
                coll = Some(source.clone());
            }
        }
        current = next;
    }
    let mut out = Vec::new();
    for r in &current {
        let v = match (field, &coll) {
            (Field::Pos(p), _) => r.values.get(*p).cloned().unwrap_or(Value::Null),
            (f, Some(c)) => field_value(c, r, f),
            (_, None) => Value::Null,
        };
        push_flat(&mut out, v);
    }
    Ok(out)
}

fn request_values(
    part: &RequestPart,
    modifier: &Modifier,
    record: &Record,
    req: &RequestInfo,
) -> Result<(Vec<Value>, bool)> {
    let from_map = |m: &serde_json::Map<String, Json>, k: &str| m.get(k).cloned();
    let raw: Option<Json> = match part {
        RequestPart::Body(k) => from_map(&req.body, k),
        RequestPart::Changed(k, pos) => {
            let changed = req.body.get(k).is_some_and(|j| {
                let current = pos
                    .and_then(|p| record.values.get(p))
                    .cloned()
                    .unwrap_or(Value::Null);
                order(&json_to_value(j), &current) != Ordering::Equal
            });
            return Ok((vec![Value::Bool(changed)], false));
        }
        RequestPart::Query(k) => from_map(&req.query, k),
        RequestPart::Header(k) => from_map(&req.headers, k),
        RequestPart::Method => Some(Json::String(req.method.clone())),
        RequestPart::Context => Some(Json::String(if req.context.is_empty() {
            "default".into()
        } else {
            req.context.clone()
        })),
        RequestPart::Auth(path) => {
            let v = match &req.auth {
                None => Value::Text(String::new()),
                Some((c, r)) => match path.as_str() {
                    "collectionId" => Value::Text(c.id.clone()),
                    "collectionName" => Value::Text(c.name.clone()),
                    f => r.get(c, f).cloned().unwrap_or(Value::Null),
                },
            };
            let mut out = Vec::new();
            push_flat(&mut out, v);
            let multi = out.len() > 1;
            if out.is_empty() {
                out.push(Value::Null);
            }
            return Ok((out, multi));
        }
    };
    if *modifier == Modifier::IsSet {
        return Ok((vec![Value::Bool(raw.is_some())], false));
    }
    let mut v = raw.map(|j| json_to_value(&j)).unwrap_or(Value::Null);
    if *modifier == Modifier::Lower {
        if let Value::Text(s) = &mut v {
            *s = s.to_lowercase();
        }
    }
    if *modifier == Modifier::Length {
        let n = match &v {
            Value::Null => 0,
            _ => 1,
        };
        v = Value::Number(n as f64);
    }
    Ok((vec![v], false))
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Text(s) => s.trim().parse().ok(),
        Value::Null => Some(0.0),
        _ => None,
    }
}

fn as_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Text(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        Value::Bool(b) => Cow::Owned(b.to_string()),
        Value::Number(n) => Cow::Owned(crate::value::number_to_json(*n).to_string()),
        Value::Json(Json::String(s)) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_json().to_string()),
    }
}

fn order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Number(_), _)
        | (_, Value::Number(_))
        | (Value::Bool(_), _)
        | (_, Value::Bool(_)) => match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => as_text(a).cmp(&as_text(b)),
        },
        (Value::Null, other) | (other, Value::Null) => {
            let zero = other.is_zero();
            let ord = if zero {
                Ordering::Equal
            } else {
                as_text(other).as_ref().cmp("")
            };
            if matches!(a, Value::Null) {
                ord.reverse()
            } else {
                ord
            }
        }
        _ => as_text(a).cmp(&as_text(b)),
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    match op {
        Op::Eq => order(a, b) == Ordering::Equal,
        Op::Ne => order(a, b) != Ordering::Equal,
        Op::Gt => order(a, b) == Ordering::Greater,
        Op::Ge => order(a, b) != Ordering::Less,
        Op::Lt => order(a, b) == Ordering::Less,
        Op::Le => order(a, b) != Ordering::Greater,
        Op::Like => like(&as_text(a), &as_text(b)),
        Op::NotLike => !like(&as_text(a), &as_text(b)),
    }
}

/// SQLite's LIKE (ASCII case-insensitive, `%` and `_`, `\` escapes), with the pattern
/// wrapped in `%…%` when it has no unescaped `%`, like PocketBase.
pub fn like(text: &str, pattern: &str) -> bool {
    let mut pat: Vec<(char, bool)> = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                pat.push((n, false));
            }
        } else {
            pat.push((c, c == '%' || c == '_'));
        }
    }
    if !pat.iter().any(|(c, wild)| *wild && *c == '%') {
        pat.insert(0, ('%', true));
        pat.push(('%', true));
    }
    let text: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let pat: Vec<(char, bool)> = pat
        .into_iter()
        .map(|(c, w)| (c.to_ascii_lowercase(), w))
        .collect();
    // Iterative wildcard matching with backtracking to the last '%'.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() && (pat[p] == ('_', true) || (!pat[p].1 && pat[p].0 == text[t])) {
            t += 1;
            p += 1;
        } else if p < pat.len() && pat[p] == ('%', true) {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while p < pat.len() && pat[p] == ('%', true) {
        p += 1;
    }
    p == pat.len()
}

fn fmt(t: chrono::DateTime<Utc>) -> String {
    crate::time::format(t)
}

fn macro_value(m: &str) -> String {
    let now = Utc::now();
    let day_start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let today = now.date_naive();
    match m {
        "@now" => fmt(now),
        "@second" => now.second().to_string(),
        "@minute" => now.minute().to_string(),
        "@hour" => now.hour().to_string(),
        "@weekday" => now.weekday().num_days_from_sunday().to_string(),
        "@day" => now.day().to_string(),
        "@month" => now.month().to_string(),
        "@year" => now.year().to_string(),
        "@yesterday" => fmt(now - Duration::days(1)),
        "@tomorrow" => fmt(now + Duration::days(1)),
        "@todayStart" => fmt(day_start(today)),
        "@todayEnd" => fmt(day_start(today) + Duration::days(1) - Duration::milliseconds(1)),
        "@monthStart" => fmt(day_start(today.with_day(1).unwrap_or(today))),
        "@monthEnd" => {
            let first_next = if now.month() == 12 {
                NaiveDate::from_ymd_opt(now.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(now.year(), now.month() + 1, 1)
            };
            fmt(first_next.map(day_start).unwrap_or(now) - Duration::milliseconds(1))
        }
        "@yearStart" => fmt(Utc
            .with_ymd_and_hms(now.year(), 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(now)),
        "@yearEnd" => fmt(Utc
            .with_ymd_and_hms(now.year() + 1, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(now)
            - Duration::milliseconds(1)),
        _ => String::new(),
    }
}
