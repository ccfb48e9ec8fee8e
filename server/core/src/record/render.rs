//! Records as PocketBase renders them: `collectionId`, `collectionName`, then the
//! fields in schema order with their zero values (`""`, `0`, `false`, `[]`, `null` for
//! json); hidden fields only when asked for; `password` and `tokenKey` never.

use serde_json::{Map, Value as Json};

use super::{shape, Record};
use crate::schema::{Collection, FieldKind};
use crate::value::Value;

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
    let auth = collection.is_auth();
    let email_visible = opts.show_email
        || record
            .get(collection, "emailVisibility")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    for (pos, field) in collection.fields.iter().enumerate() {
        let secret = auth && matches!(field.name.as_str(), "password" | "tokenKey");
        if secret || matches!(field.kind, FieldKind::Password(_)) {
            continue;
        }
        if field.hidden && !opts.include_hidden {
            continue;
        }
        if auth && field.name == "email" && !email_visible {
            continue;
        }
        let value = record.values.get(pos).cloned().unwrap_or(Value::Null);
        out.insert(
            field.name.clone(),
            shape::conform(&field.kind, value).to_json(),
        );
    }
    out
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
}
