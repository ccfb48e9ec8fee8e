//! Record values as PocketBase's SQLite columns hold them: numbers and booleans as
//! numbers, multi-valued fields as JSON array text, json fields read through
//! `json_extract`, `:each` through `json_each` and `:length` through
//! `json_array_length`.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::sql::Sql;
use crate::value::Value;

/// The column value of a stored field.
pub fn value_sql(v: Option<&Value>) -> Sql<'_> {
    match v {
        None | Some(Value::Null) => Sql::Null,
        Some(Value::Bool(b)) => Sql::Int(i64::from(*b)),
        Some(Value::Number(n)) => Sql::number(*n),
        Some(Value::Text(s)) => Sql::Text(Cow::Borrowed(s)),
        Some(v @ Value::List(_)) => Sql::Text(Cow::Owned(v.to_json().to_string())),
        Some(Value::Json(j)) => match j {
            Json::Null => Sql::Null,
            other => Sql::Text(Cow::Owned(other.to_string())),
        },
    }
}

/// A JSON value as `json_extract` returns it.
pub fn json_sql(j: &Json) -> Sql<'_> {
    match j {
        Json::Null => Sql::Null,
        Json::Bool(b) => Sql::Int(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Sql::Int(i),
            None => Sql::Real(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Sql::Text(Cow::Borrowed(s)),
        other => Sql::Text(Cow::Owned(other.to_string())),
    }
}

/// `json_extract(field, '$.a.b[0]')`: object keys, array indexes; missing is NULL.
pub fn json_extract<'v>(v: Option<&'v Value>, path: &[String]) -> Sql<'v> {
    let root = match v {
        Some(Value::Json(j)) => j,
        Some(Value::Text(s)) if path.is_empty() => return Sql::Text(Cow::Borrowed(s)),
        Some(other) if path.is_empty() => return value_sql(Some(other)),
        _ => return Sql::Null,
    };
    let mut cur = root;
    for key in path {
        let next = match cur {
            Json::Object(m) => m.get(key),
            Json::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        let Some(next) = next else {
            return Sql::Null;
        };
        cur = next;
    }
    json_sql(cur)
}

/// A text holding a JSON array, as `json_valid(x) AND json_type(x) = 'array'` sees it.
fn json_array(s: &str) -> Option<Vec<Json>> {
    if !s.trim_start().starts_with('[') {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// PocketBase's `json_array_length` of a column: arrays by length, `''`/NULL as 0,
/// any other value as 1.
pub fn length(v: Option<&Value>) -> i64 {
    let n = match v {
        None | Some(Value::Null) => 0,
        Some(Value::List(items)) => items.len(),
        Some(Value::Text(s)) if s.is_empty() => 0,
        Some(Value::Text(s)) => json_array(s).map_or(1, |a| a.len()),
        Some(Value::Json(Json::Array(items))) => items.len(),
        Some(Value::Json(Json::Null)) => 0,
        Some(_) => 1,
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The items `json_each` yields for a column (a non-array value is one item).
pub fn each_items(v: Option<&Value>) -> Vec<Sql<'static>> {
    let owned = |j: &Json| json_sql(j).into_owned();
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(items)) => items
            .iter()
            .map(|i| value_sql(Some(i)).into_owned())
            .collect(),
        Some(Value::Text(s)) => match json_array(s) {
            Some(items) => items.iter().map(owned).collect(),
            None => vec![Sql::Text(Cow::Owned(s.clone()))],
        },
        Some(Value::Json(Json::Array(items))) => items.iter().map(owned).collect(),
        Some(other) => vec![value_sql(Some(other)).into_owned()],
    }
}

/// A comparison value back as a record value (for sorting).
pub fn sql_value(s: &Sql) -> Value {
    match s {
        Sql::Null => Value::Null,
        Sql::Int(i) => Value::Number(*i as f64),
        Sql::Real(r) => Value::Number(*r),
        Sql::Text(t) => Value::Text(t.to_string()),
    }
}
