//! The value shape each field kind holds, and conversion of stray shapes (a value
//! stored before its field switched between single and multiple, say) into it.

use crate::schema::field::FieldKind;
use crate::value::Value;

/// Whether the field holds a list. Delegates to the schema so that both agree.
pub fn multiple(kind: &FieldKind) -> bool {
    kind.is_multiple()
}

/// How many items a select, relation or file field accepts; `None` = no limit.
pub fn max_items(kind: &FieldKind) -> Option<usize> {
    let max_select = match kind {
        FieldKind::Select(o) => o.max_select,
        FieldKind::Relation(o) => o.max_select,
        FieldKind::File(o) => o.max_select,
        _ => return None,
    };
    if max_select == 0 && multiple(kind) {
        return None;
    }
    Some(max_select.max(1) as usize)
}

/// `value` in the shape `kind` holds; anything unusable becomes the zero value.
pub fn conform(kind: &FieldKind, value: Value) -> Value {
    match kind {
        FieldKind::Number(_) => match value {
            Value::Number(n) => Value::Number(n),
            _ => Value::Number(0.0),
        },
        FieldKind::Bool(_) => Value::Bool(value.as_bool().unwrap_or(false)),
        FieldKind::Json(_) => match value {
            Value::Json(j) => Value::Json(j),
            Value::Null => Value::Json(serde_json::Value::Null),
            other => Value::Json(other.to_json()),
        },
        FieldKind::Select(_) | FieldKind::Relation(_) | FieldKind::File(_) => {
            let items: Vec<String> = value.strings().into_iter().map(str::to_owned).collect();
            from_items(kind, items)
        }
        _ => match value {
            Value::Text(s) => Value::Text(s),
            _ => Value::Text(String::new()),
        },
    }
}

/// The value of a select, relation or file field holding `items` (already unique):
/// a list for multiple fields, else the last item (or `""`), like PocketBase.
pub fn from_items(kind: &FieldKind, mut items: Vec<String>) -> Value {
    if multiple(kind) {
        Value::List(items.into_iter().map(Value::Text).collect())
    } else {
        Value::Text(items.pop().unwrap_or_default())
    }
}

/// The items of a select, relation or file value.
pub fn items(value: &Value) -> Vec<String> {
    value.strings().into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(v: serde_json::Value) -> FieldKind {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn stray_shapes_are_conformed() {
        let multi = kind(json!({"type": "select", "values": ["a", "b"], "maxSelect": 2}));
        let single = kind(json!({"type": "select", "values": ["a", "b"]}));
        assert_eq!(
            conform(&multi, Value::text("a")),
            Value::List(vec![Value::text("a")])
        );
        assert_eq!(
            conform(
                &single,
                Value::List(vec![Value::text("a"), Value::text("b")])
            ),
            Value::text("b")
        );
        let number = kind(json!({"type": "number"}));
        assert_eq!(conform(&number, Value::text("x")), Value::Number(0.0));
        let json_kind = kind(json!({"type": "json"}));
        assert_eq!(
            conform(&json_kind, Value::Null),
            Value::Json(serde_json::Value::Null)
        );
        let text = kind(json!({"type": "text"}));
        assert_eq!(conform(&text, Value::Bool(true)), Value::text(""));
    }

    #[test]
    fn item_limits() {
        assert_eq!(max_items(&kind(json!({"type": "file"}))), Some(1));
        assert_eq!(
            max_items(&kind(json!({"type": "file", "maxSelect": 3}))),
            Some(3)
        );
        assert_eq!(max_items(&kind(json!({"type": "text"}))), None);
    }
}
