//! Records as PocketBase renders them: `collectionId`, `collectionName`, then the
//! fields in schema order with their zero values (`""`, `0`, `false`, `[]`, `null` for
//! json); hidden fields only when asked for; `password` and `tokenKey` never.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{json_out, shape, Record};
use crate::schema::{Collection, Field, FieldKind};
use crate::value::{number_to_json, Value};

#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Show fields flagged `hidden` (superusers).
    pub include_hidden: bool,
    /// Show `email` of auth records regardless of `emailVisibility` (owner, managers,
    /// superusers).
    pub show_email: bool,
}

pub fn record_to_json(
    collection: &Collection,
    record: &Record,
    opts: &RenderOptions,
) -> Map<String, Json> {
    let mut out = Map::with_capacity(collection.fields.len() + 2);
    out.insert("collectionId".into(), Json::String(collection.id.clone()));
    out.insert(
        "collectionName".into(),
        Json::String(collection.name.clone()),
    );
    for (field, value) in visible(collection, record, opts) {
        out.insert(
            field.name.clone(),
            shape::conform(&field.kind, value.clone()).to_json(),
        );
    }
    out
}

/// The fields `opts` shows, in schema order, with their stored values (`null` past
/// the end of an old record).
fn visible<'a>(
    collection: &'a Collection,
    record: &'a Record,
    opts: &RenderOptions,
) -> impl Iterator<Item = (&'a Field, &'a Value)> + 'a {
    const MISSING: &Value = &Value::Null;
    let auth = collection.is_auth();
    let email_visible = opts.show_email
        || record
            .get(collection, "emailVisibility")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let include_hidden = opts.include_hidden;
    collection
        .fields
        .iter()
        .enumerate()
        .filter(move |(_, field)| {
            let secret = auth && matches!(field.name.as_str(), "password" | "tokenKey");
            !(secret
                || matches!(field.kind, FieldKind::Password(_))
                || (field.hidden && !include_hidden)
                || (auth && field.name == "email" && !email_visible))
        })
        .map(move |(pos, field)| (field, record.values.get(pos).unwrap_or(MISSING)))
}

/// A record written straight to JSON as [`record_to_json`] renders it, without
/// building the map: what lists serialize when nothing reshapes their records.
#[derive(Debug)]
pub struct RecordJson {
    pub collection: Arc<Collection>,
    pub record: Record,
    pub opts: RenderOptions,
}

impl RecordJson {
    /// The record's JSON, appended to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let collection = &*self.collection;
        let mut object = json_out::Object::begin(out);
        object.str("collectionId", &collection.id);
        object.str("collectionName", &collection.name);
        for (field, value) in visible(collection, &self.record, &self.opts) {
            write_conformed(object.key(&field.name), &field.kind, value);
        }
        object.end();
    }
}

/// A stored value written as [`shape::conform`] shapes it for its field. Values
/// already in their field's shape are written as they are; the rest go through
/// `conform`.
fn write_conformed(out: &mut Vec<u8>, kind: &FieldKind, value: &Value) {
    match (kind, value) {
        (FieldKind::Number(_), Value::Number(n)) => {
            json_out::write_value(out, &number_to_json(*n));
        }
        (FieldKind::Bool(_), Value::Bool(b)) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" });
        }
        (FieldKind::Json(_), Value::Json(j)) => json_out::write_value(out, j),
        (
            FieldKind::Text(_)
            | FieldKind::Email(_)
            | FieldKind::Url(_)
            | FieldKind::Editor(_)
            | FieldKind::Date(_)
            | FieldKind::Autodate(_),
            Value::Text(t),
        ) => json_out::write_str(out, t),
        (kind, value) => {
            json_out::write_value(out, &shape::conform(kind, value.clone()).to_json());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collection(v: Json) -> Collection {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Collection {
        collection(json!({
            "id": "pbc_1", "name": "posts",
            "fields": [
                {"name": "id", "type": "text", "primaryKey": true},
                {"name": "title", "type": "text"},
                {"name": "n", "type": "number"},
                {"name": "j", "type": "json"},
                {"name": "tags", "type": "select", "values": ["a"], "maxSelect": 3},
                {"name": "owner", "type": "relation", "collectionId": "pbc_1", "maxSelect": 1},
                {"name": "secret", "type": "text", "hidden": true},
                {"name": "pin", "type": "password"}
            ]
        }))
    }

    #[test]
    fn zero_values_render_like_pocketbase() {
        let c = base();
        let mut r = Record::zero(&c);
        r.values[0] = Value::text("abc");
        let json = Json::Object(record_to_json(&c, &r, &RenderOptions::default()));
        assert_eq!(
            json,
            json!({
                "collectionId": "pbc_1", "collectionName": "posts", "id": "abc",
                "title": "", "n": 0, "j": null, "tags": [], "owner": ""
            })
        );
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys[..3], ["collectionId", "collectionName", "id"]);
    }

    #[test]
    fn numbers_lose_their_fraction_and_hidden_fields_need_asking() {
        let c = base();
        let mut r = Record::zero(&c);
        r.values[2] = Value::Number(5.0);
        r.values[6] = Value::text("s");
        r.values[7] = Value::text("$argon2id$hash");
        let plain = record_to_json(&c, &r, &RenderOptions::default());
        assert_eq!(plain["n"], json!(5));
        assert!(!plain.contains_key("secret"));
        let all = record_to_json(
            &c,
            &r,
            &RenderOptions {
                include_hidden: true,
                show_email: false,
            },
        );
        assert_eq!(all["secret"], "s");
        assert!(!all.contains_key("pin"));
    }

    #[test]
    fn stray_shapes_and_short_records_do_not_panic() {
        let c = base();
        let r = Record {
            values: vec![Value::text("x"), Value::Number(1.0)],
        };
        let json = record_to_json(&c, &r, &RenderOptions::default());
        assert_eq!(json["title"], "");
        assert_eq!(json["tags"], json!([]));
    }

    #[test]
    fn auth_secrets_and_email_visibility() {
        let c = collection(json!({
            "id": "pbc_2", "name": "users", "type": "auth",
            "fields": [
                {"name": "id", "type": "text", "primaryKey": true},
                {"name": "password", "type": "password", "hidden": true},
                {"name": "tokenKey", "type": "text", "hidden": true},
                {"name": "email", "type": "email"},
                {"name": "emailVisibility", "type": "bool"}
            ]
        }));
        let mut r = Record::zero(&c);
        r.values[2] = Value::text("tk");
        r.values[3] = Value::text("a@b.co");
        let superuser = RenderOptions {
            include_hidden: true,
            show_email: true,
        };
        let json = record_to_json(&c, &r, &superuser);
        assert!(!json.contains_key("password"));
        assert!(!json.contains_key("tokenKey"));
        assert_eq!(json["email"], "a@b.co");
        let guest = record_to_json(&c, &r, &RenderOptions::default());
        assert!(!guest.contains_key("email"));
        r.values[4] = Value::Bool(true);
        let guest = record_to_json(&c, &r, &RenderOptions::default());
        assert_eq!(guest["email"], "a@b.co");
    }

    fn written(record: &RecordJson) -> String {
        let mut out = Vec::new();
        record.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// The streamed rendering writes the same bytes as the map, for every shape a
    /// stored value can be in (including ones its field would never store).
    #[test]
    fn streamed_records_write_what_the_map_renders() {
        let c = Arc::new(base());
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Number(3.0),
            Value::Number(-2.5),
            Value::Number(f64::NAN),
            Value::text(""),
            Value::text("a \"quoted\" \u{e9}"),
            Value::text("line\nbreak\t\\ and a long tail past one block of bytes"),
            Value::List(vec![Value::text("a"), Value::text("b")]),
            Value::Json(json!({"k": [1, null]})),
        ];
        let everything = RenderOptions {
            include_hidden: true,
            show_email: true,
        };
        for value in &values {
            for pos in 1..c.fields.len() {
                let mut r = Record::zero(&c);
                r.values[0] = Value::text("abc");
                r.values[pos] = value.clone();
                for opts in [RenderOptions::default(), everything] {
                    let map = serde_json::to_string(&record_to_json(&c, &r, &opts)).unwrap();
                    let streamed = RecordJson {
                        collection: c.clone(),
                        record: r.clone(),
                        opts,
                    };
                    assert_eq!(written(&streamed), map, "{value:?} in field {pos}");
                }
            }
        }
        let short = Record {
            values: vec![Value::text("x")],
        };
        let opts = RenderOptions::default();
        let streamed = RecordJson {
            collection: c.clone(),
            record: short.clone(),
            opts,
        };
        assert_eq!(
            written(&streamed),
            serde_json::to_string(&record_to_json(&c, &short, &opts)).unwrap()
        );
    }
}
