//! Records as PocketBase renders them.

use serde_json::{Map, Value as Json};

use super::Record;
use crate::schema::{Collection, FieldKind};

#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Show fields flagged `hidden` (superusers).
    pub include_hidden: bool,
    /// Show `email` of auth records regardless of `emailVisibility` (owner, superusers).
    pub show_email: bool,
}

/// `collectionId`, `collectionName`, then the fields in schema order. Passwords and
/// token keys are never rendered.
pub fn record_to_json(
    collection: &Collection,
    record: &Record,
    opts: &RenderOptions,
) -> Map<String, Json> {
    let mut out = Map::new();
    out.insert("collectionId".into(), Json::String(collection.id.clone()));
    out.insert(
        "collectionName".into(),
        Json::String(collection.name.clone()),
    );
    let email_visible = opts.show_email
        || collection.is_auth()
            && collection
                .field_pos("emailVisibility")
                .and_then(|p| record.values.get(p))
                .and_then(|v| v.as_bool())
                == Some(true);
    for (field, value) in collection.fields.iter().zip(&record.values) {
        if matches!(field.kind, FieldKind::Password(_))
            || (collection.is_auth() && field.name == "tokenKey")
        {
            continue;
        }
        if field.hidden && !opts.include_hidden {
            continue;
        }
        if collection.is_auth() && field.name == "email" && !email_visible {
            continue;
        }
        out.insert(field.name.clone(), value.to_json());
    }
    out
}
