//! JSON Schemas of one collection's records, built from its compiled definition:
//! the read shape (what the API returns), the create and update shapes (JSON and
//! multipart, file fields as binary parts).

use basalt_core::schema::{Collection, Field, FieldKind};
use serde_json::{json, Map, Value};

/// Which shape of a record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Read,
    Create,
    Update,
    /// Create as `multipart/form-data`: file fields are binary parts.
    CreateMultipart,
    /// Update as `multipart/form-data`.
    UpdateMultipart,
}

impl Shape {
    fn creates(self) -> bool {
        matches!(self, Shape::Create | Shape::CreateMultipart)
    }

    fn multipart(self) -> bool {
        matches!(self, Shape::CreateMultipart | Shape::UpdateMultipart)
    }
}

/// PocketBase's dates: `YYYY-MM-DD HH:MM:SS.sssZ` (UTC), `""` when unset.
fn read_date() -> Value {
    json!({
        "type": "string",
        "description": "UTC, `YYYY-MM-DD HH:MM:SS.sssZ`; empty when unset.",
        "pattern": "^$|^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$",
    })
}

/// `schema`, or an empty value when the field is optional (an optional text, email,
/// url, date or select field accepts and returns `""`).
fn or_empty(schema: Value, required: bool, shape: Shape) -> Value {
    if required && shape != Shape::Read {
        return schema;
    }
    json!({"anyOf": [schema, {"type": "string", "maxLength": 0}]})
}

fn many(item: Value, max_select: u32, required: bool, shape: Shape) -> Value {
    // Files are parts, not values: uniqueness says nothing about them.
    let binary = item["format"] == "binary";
    let mut s = json!({"type": "array", "items": item});
    if !binary {
        s["uniqueItems"] = json!(true);
    }
    if max_select > 0 {
        s["maxItems"] = json!(max_select);
    }
    if required && shape != Shape::Read {
        s["minItems"] = json!(1);
    }
    s
}

/// The schema of one field's value, or `None` when the shape leaves it out.
pub fn field_schema(field: &Field, shape: Shape) -> Option<Value> {
    let input = shape != Shape::Read;
    let required = field.kind.required();
    let schema = match &field.kind {
        FieldKind::Text(o) => {
            if input && o.primary_key && !shape.creates() {
                return None;
            }
            let mut s = json!({"type": "string"});
            if o.min > 0 {
                s["minLength"] = json!(o.min);
            }
            if o.max > 0 {
                s["maxLength"] = json!(o.max);
            }
            if !o.pattern.is_empty() {
                s["pattern"] = json!(o.pattern);
            }
            let empty_ok = !required || !o.autogenerate_pattern.is_empty() || !input;
            if empty_ok {
                or_empty(s, false, shape)
            } else {
                s
            }
        }
        FieldKind::Editor(o) => {
            let mut s = json!({"type": "string", "contentMediaType": "text/html"});
            if o.max_size > 0 && input {
                s["maxLength"] = json!(o.max_size);
            }
            s
        }
        FieldKind::Password(o) => {
            if !input {
                return None;
            }
            let mut s = json!({"type": "string", "writeOnly": true, "format": "password"});
            if o.min > 0 {
                s["minLength"] = json!(o.min);
            }
            if o.max > 0 {
                s["maxLength"] = json!(o.max);
            }
            if !o.pattern.is_empty() {
                s["pattern"] = json!(o.pattern);
            }
            s
        }
        FieldKind::Number(o) => {
            let ty = if o.only_int { "integer" } else { "number" };
            let mut s = json!({ "type": ty });
            if let Some(min) = o.min {
                s["minimum"] = json!(min);
            }
            if let Some(max) = o.max {
                s["maximum"] = json!(max);
            }
            if required && input {
                s["not"] = json!({"const": 0});
            }
            s
        }
        FieldKind::Bool(_) => {
            if required && input {
                json!({"const": true, "description": "A required bool must be true."})
            } else {
                json!({"type": "boolean"})
            }
        }
        FieldKind::Email(_) => or_empty(
            json!({"type": "string", "format": "email"}),
            required,
            shape,
        ),
        FieldKind::Url(_) => or_empty(json!({"type": "string", "format": "uri"}), required, shape),
        FieldKind::Date(_) if input => or_empty(
            json!({"type": "string", "format": "date-time"}),
            required,
            shape,
        ),
        FieldKind::Date(_) => read_date(),
        FieldKind::Autodate(_) if input => return None,
        FieldKind::Autodate(_) => {
            let mut s = read_date();
            s["readOnly"] = json!(true);
            s
        }
        FieldKind::Select(o) => {
            let one = json!({"type": "string", "enum": o.values});
            if o.max_select > 1 {
                many(one, o.max_select, required, shape)
            } else {
                or_empty(one, required, shape)
            }
        }
        FieldKind::Json(o) => {
            let mut s = json!({"description": "Any JSON value."});
            if o.max_size > 0 {
                s["description"] = json!(format!(
                    "Any JSON value, at most {} bytes serialized.",
                    o.max_size
                ));
            }
            s
        }
        FieldKind::Relation(o) => {
            let target = format!("An id of a record of the collection `{}`.", o.collection_id);
            let one = json!({"type": "string", "description": target});
            if o.max_select > 1 {
                let mut s = many(one, o.max_select, required, shape);
                if o.min_select > 0 && input {
                    s["minItems"] = json!(o.min_select);
                }
                s
            } else {
                or_empty(one, required, shape)
            }
        }
        FieldKind::File(o) => {
            if matches!(shape, Shape::Create | Shape::Update) {
                return None;
            }
            let one = if shape.multipart() {
                let mut s = json!({"type": "string", "format": "binary"});
                if o.max_size > 0 {
                    s["description"] = json!(format!("At most {} bytes.", o.max_size));
                }
                s
            } else {
                json!({"type": "string", "description": "A stored file name."})
            };
            if o.max_select > 1 {
                many(one, o.max_select, required, shape)
            } else if shape.multipart() {
                one
            } else {
                or_empty(one, false, shape)
            }
        }
    };
    Some(schema)
}

/// The schema of `c`'s records in `shape`.
pub fn record_schema(c: &Collection, shape: Shape) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    if shape == Shape::Read {
        props.insert(
            "collectionId".into(),
            json!({"type": "string", "const": c.id}),
        );
        props.insert(
            "collectionName".into(),
            json!({"type": "string", "const": c.name}),
        );
        props.insert(
            "expand".into(),
            json!({"type": "object", "description": "Expanded relations (`expand`)."}),
        );
        props.insert(
            "@search".into(),
            json!({"type": "object", "description": "With `searchHighlight`: score and highlights."}),
        );
    }
    for field in &c.fields {
        if shape == Shape::Read && field.hidden {
            continue;
        }
        if field.name == "tokenKey" && c.is_auth() {
            continue;
        }
        let Some(mut schema) = field_schema(field, shape) else {
            continue;
        };
        if let Some(help) = field.help.as_deref().filter(|h| !h.is_empty()) {
            if let Some(obj) = schema.as_object_mut() {
                obj.entry("description").or_insert_with(|| json!(help));
            }
        }
        let creating = shape.creates();
        if creating && creation_requires(field) {
            required.push(field.name.clone());
        }
        props.insert(field.name.clone(), schema);
    }
    if c.is_auth() && shape != Shape::Read {
        props.insert(
            "passwordConfirm".into(),
            json!({"type": "string", "writeOnly": true, "format": "password",
                   "description": "Must equal `password`."}),
        );
        if shape.creates() {
            required.push("passwordConfirm".into());
        }
        if !shape.creates() {
            props.insert(
                "oldPassword".into(),
                json!({"type": "string", "writeOnly": true, "format": "password",
                       "description": "Required with `password` unless the caller may manage the record."}),
            );
        }
    }
    let mut schema = json!({
        "type": "object",
        "title": format!("{} ({})", c.name, shape_name(shape)),
        "properties": props,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    if shape == Shape::Read {
        schema["description"] = json!(
            "Every property is present unless `fields` narrows the reply; hidden fields are left out."
        );
    }
    schema
}

fn creation_requires(field: &Field) -> bool {
    match &field.kind {
        FieldKind::Text(o) => o.required && o.autogenerate_pattern.is_empty(),
        FieldKind::Autodate(_) => false,
        kind => kind.required(),
    }
}

pub fn shape_name(shape: Shape) -> &'static str {
    match shape {
        Shape::Read => "read",
        Shape::Create => "create",
        Shape::Update => "update",
        Shape::CreateMultipart => "multipart create",
        Shape::UpdateMultipart => "multipart update",
    }
}
