//! The collection schema model, in PocketBase's JSON shape.
//!
//! A [`Collection`] is what clients send and receive; once checked it is compiled into
//! an immutable `Arc<Collection>` in a [`Catalog`] snapshot (see `catalog`).

pub mod auth_options;
mod catalog;
pub mod field;
mod index;
mod validate;

pub use auth_options::AuthOptions;
pub use catalog::Catalog;
pub use field::{Field, FieldKind};
pub use index::IndexDef;
pub use validate::{validate_collection, Changes};

use serde::{Deserialize, Serialize};

/// `base`, `auth` or `view`. Only base and auth are served today. `""` reads as base;
/// any other word reads as `Unknown`, which validation rejects (`type` must be one of
/// the three), as PocketBase does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CollectionType {
    #[default]
    Base,
    Auth,
    View,
    #[schemars(skip)]
    Unknown,
}

impl<'de> Deserialize<'de> for CollectionType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match String::deserialize(d)?.as_str() {
            "" | "base" => CollectionType::Base,
            "auth" => CollectionType::Auth,
            "view" => CollectionType::View,
            _ => CollectionType::Unknown,
        })
    }
}

/// The API rules of a collection. `None` = superusers only, `Some("")` = everyone,
/// otherwise a filter expression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    #[serde(default)]
    pub list_rule: Option<String>,
    #[serde(default)]
    pub view_rule: Option<String>,
    #[serde(default)]
    pub create_rule: Option<String>,
    #[serde(default)]
    pub update_rule: Option<String>,
    #[serde(default)]
    pub delete_rule: Option<String>,
}

/// A collection definition as stored and served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: CollectionType,
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub indexes: Vec<String>,
    #[serde(flatten)]
    pub rules: Rules,
    /// Auth collections only: who may authenticate, and who may manage other records.
    /// The outer `None` means the key was absent; `Some(None)` is JSON `null`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub auth_rule: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub manage_rule: Option<Option<String>>,
    /// Auth collections only (`passwordAuth`, `authToken`, `otp`, …).
    #[serde(flatten)]
    pub auth_options: AuthOptions,
    /// Basalt: the language whose stemmer full-text search applies to this collection's
    /// searchable fields (one of [`crate::search::LANGUAGES`]); empty = no stemming.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub search_language: String,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub updated: String,
    /// Parsed `indexes`, filled by validation.
    #[serde(skip)]
    pub index_defs: Vec<IndexDef>,
    /// The next unused storage slot (see [`Field::slot`]); persisted with the collection.
    #[serde(skip)]
    pub next_slot: u32,
}

/// Deserializes a key that is present (even as `null`) into `Some(..)`; absent keys
/// take the field default (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl Collection {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The position of a field in [`Collection::fields`] (and so in a record's values).
    pub fn field_pos(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field_by_id(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The fields full-text search indexes.
    pub fn searchable_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.kind.searchable())
    }

    pub fn is_auth(&self) -> bool {
        self.kind == CollectionType::Auth
    }

    /// Whether `name` matches this collection by id or (case-insensitively) by name.
    pub fn matches(&self, id_or_name: &str) -> bool {
        self.id == id_or_name || self.name.eq_ignore_ascii_case(id_or_name)
    }
}

/// What is persisted for a collection: the public definition plus the internal
/// storage slots, versioned so that a future change of shape has a tested migration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "version")]
pub enum StoredCollection {
    #[serde(rename = "1")]
    V1 {
        collection: Collection,
        slots: Vec<(String, u32)>,
        next_slot: u32,
    },
}

impl StoredCollection {
    pub fn from_collection(c: &Collection) -> StoredCollection {
        let slots = c.fields.iter().map(|f| (f.id.clone(), f.slot)).collect();
        StoredCollection::V1 {
            collection: c.clone(),
            slots,
            next_slot: c.next_slot,
        }
    }

    /// Restores the collection with its slots; index definitions are re-parsed and
    /// missing auth options take their defaults.
    pub fn into_collection(self) -> crate::Result<Collection> {
        let StoredCollection::V1 {
            mut collection,
            slots,
            next_slot,
        } = self;
        for field in &mut collection.fields {
            if let Some((_, slot)) = slots.iter().find(|(id, _)| *id == field.id) {
                field.slot = *slot;
            }
        }
        collection.next_slot = next_slot;
        if collection.is_auth() {
            // Stored before auth options existed: complete them with the defaults.
            collection.auth_options.fill_from(&AuthOptions::defaults());
        }
        collection.index_defs = collection
            .indexes
            .iter()
            .map(|sql| IndexDef::parse(sql, &collection))
            .collect::<Result<_, _>>()
            .map_err(|e| crate::Error::internal(format!("stored index no longer parses: {e}")))?;
        Ok(collection)
    }
}
