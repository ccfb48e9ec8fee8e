//! Record values: the small closed set of shapes a field can hold.

use std::cmp::Ordering;

use serde_json::Value as Json;

/// A field value. Text-like fields (text, email, url, editor, date, autodate, single
/// select, single relation, single file) hold [`Value::Text`]; multi-valued fields hold a
/// [`Value::List`] of texts; json fields hold [`Value::Json`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    List(Vec<Value>),
    Json(Json),
}

impl Value {
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The strings of a text or list value (empty strings skipped): the ids of a
    /// relation, the names of files, the chosen select values.
    pub fn strings(&self) -> Vec<&str> {
        match self {
            Value::Text(s) if !s.is_empty() => vec![s.as_str()],
            Value::List(items) => items
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// PocketBase's notion of a zero value: `""`, `0`, `false`, `[]`, `null`.
    pub fn is_zero(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(n) => *n == 0.0,
            Value::Text(s) => s.is_empty(),
            Value::List(items) => items.is_empty(),
            Value::Json(j) => j.is_null(),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::Text(s) => Json::String(s.clone()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Json(j) => j.clone(),
        }
    }

    /// A total order used for sorting: null < bool < number < text < list < json.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::Text(_) => 3,
                Value::List(_) => 4,
                Value::Json(_) => 5,
            }
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.total_cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let ord = x.total_cmp(y);
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Json(a), Value::Json(b)) => a.to_string().cmp(&b.to_string()),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

/// Whole numbers are written without a fraction (`5`, not `5.0`), like PocketBase.
pub fn number_to_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}
