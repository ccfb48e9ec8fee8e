//! The static `@request.*` values: resolved from the [`RequestInfo`] at evaluation
//! time, as PocketBase binds them as query parameters.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::sql::{Affinity, Kind, ParamKind, Sql, Val};
use super::RequestInfo;
use crate::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Query,
    Headers,
    Body,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticMod {
    None,
    IsSet,
    Lower,
}

/// The `@request.auth.*` fields PocketBase reads from the auth record itself.
pub const PLAIN_AUTH_FIELDS: [&str; 6] = [
    "id",
    "collectionId",
    "collectionName",
    "email",
    "emailVisibility",
    "verified",
];

#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Context,
    Method,
    /// One of [`PLAIN_AUTH_FIELDS`].
    AuthPlain(String),
    /// `@request.query|headers|body.<keys>`, nested keys index objects and arrays.
    /// `numeric`: the last key names a number field, so numeric strings are numbers.
    Map {
        part: Part,
        keys: Vec<String>,
        modifier: StaticMod,
        numeric: bool,
    },
    /// `@request.body.<field>:length` for a multi-valued field.
    BodyLength(String),
    /// `@request.body.<field>:lower` for a field of the collection.
    BodyLower(String),
}

/// A JSON request value as a bound parameter (`None`/null: the NULL identifier).
pub fn json_param(j: Option<&Json>, numeric: bool) -> Val<'_> {
    match j {
        None | Some(Json::Null) => Val::null(),
        Some(Json::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if numeric && n.is_finite() => Val::param(Sql::Real(n), ParamKind::Real),
            _ => Val::param(Sql::Text(Cow::Borrowed(s)), ParamKind::Text),
        },
        Some(Json::Number(n)) => Val::param(Sql::Real(n.as_f64().unwrap_or(0.0)), ParamKind::Real),
        Some(Json::Bool(b)) => Val::param(Sql::Int(i64::from(*b)), ParamKind::Bool),
        Some(other) => Val::param(Sql::Text(Cow::Owned(other.to_string())), ParamKind::Text),
    }
}

/// Go's `cast.ToString` of a JSON value (arrays and objects give "").
fn cast_string(j: Option<&Json>) -> String {
    match j {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => format!("{}", n.as_f64().unwrap_or(0.0)),
        Some(Json::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn nested<'r>(map: &'r serde_json::Map<String, Json>, keys: &[String]) -> Option<&'r Json> {
    let (first, rest) = keys.split_first()?;
    let mut cur = map.get(first)?;
    for k in rest {
        cur = match cur {
            Json::Object(m) => m.get(k)?,
            Json::Array(items) => items.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn auth_plain<'r>(req: &'r RequestInfo, field: &str) -> Val<'r> {
    let Some((c, r)) = &req.auth else {
        return Val::null();
    };
    let text = |s: &'r str| Val::param(Sql::Text(Cow::Borrowed(s)), ParamKind::Text);
    match field {
        "id" => text(r.id()),
        "collectionId" => text(&c.id),
        "collectionName" => text(&c.name),
        _ => match r.get(c, field) {
            Some(Value::Text(s)) => text(s),
            Some(Value::Bool(b)) => Val::param(Sql::Int(i64::from(*b)), ParamKind::Bool),
            _ => Val::null(),
        },
    }
}

impl Request {
    pub fn value<'r>(&self, req: &'r RequestInfo) -> Val<'r> {
        match self {
            Request::Context => {
                let ctx = if req.context.is_empty() {
                    "default"
                } else {
                    req.context.as_str()
                };
                Val::param(Sql::Text(Cow::Borrowed(ctx)), ParamKind::Text)
            }
            Request::Method => Val::param(Sql::Text(Cow::Borrowed(&req.method)), ParamKind::Text),
            Request::AuthPlain(field) => auth_plain(req, field),
            Request::Map {
                part,
                keys,
                modifier,
                numeric,
            } => {
                let map = match part {
                    Part::Query => &req.query,
                    Part::Headers => &req.headers,
                    Part::Body => &req.body,
                };
                let found = nested(map, keys);
                match modifier {
                    StaticMod::IsSet => Val::known(found.is_some()),
                    StaticMod::None => json_param(found, *numeric),
                    StaticMod::Lower => {
                        let v = json_param(found, *numeric);
                        if v.kind == Kind::Null {
                            return v;
                        }
                        Val::param(v.sql.lower(), ParamKind::Text)
                    }
                }
            }
            Request::BodyLength(key) => {
                let n = match req.body.get(key) {
                    None | Some(Json::Null) => 0,
                    Some(Json::Array(items)) => items.len(),
                    Some(_) => 1,
                };
                let sql = Sql::Int(i64::try_from(n).unwrap_or(i64::MAX));
                if n <= 1 {
                    Val {
                        sql,
                        aff: Affinity::None,
                        kind: Kind::Known,
                    }
                } else {
                    Val::ident(sql, Affinity::None)
                }
            }
            Request::BodyLower(key) => {
                let s = cast_string(req.body.get(key)).to_ascii_lowercase();
                Val::param(Sql::Text(Cow::Owned(s)), ParamKind::Text)
            }
        }
    }
}

/// The items of `@request.body.<key>` (`:each`), as `json_each` yields them.
pub fn body_items(req: &RequestInfo, key: &str) -> Vec<Sql<'static>> {
    let one = |j: &Json| -> Sql<'static> {
        match j {
            Json::Null => Sql::Null,
            Json::Bool(b) => Sql::Int(i64::from(*b)),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Sql::Int(i),
                None => Sql::Real(n.as_f64().unwrap_or(0.0)),
            },
            Json::String(s) => Sql::Text(Cow::Owned(s.clone())),
            other => Sql::Text(Cow::Owned(other.to_string())),
        }
    };
    match req.body.get(key) {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items.iter().map(one).collect(),
        Some(v) => vec![one(v)],
    }
}

/// The record ids named by `@request.body.<key>`, unique and non-empty.
pub fn body_ids(req: &RequestInfo, key: &str) -> Vec<String> {
    let mut ids: Vec<String> = match req.body.get(key) {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|j| match j {
                Json::String(s) => Some(s.clone()),
                Json::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    ids.retain(|s| !s.is_empty());
    let mut seen = std::collections::HashSet::new();
    ids.retain(|s| seen.insert(s.clone()));
    ids
}
