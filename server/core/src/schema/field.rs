//! Field definitions and their per-type options, flattened into one JSON object per
//! field exactly as PocketBase writes them.

use serde::{Deserialize, Serialize};

use crate::value::Value;

/// One field of a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub presentable: bool,
    /// A hint shown under the field in the dashboard. PocketBase writes it (as `""` when
    /// unset) for every field kind except autodate; validation keeps that shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(flatten)]
    pub kind: FieldKind,
    /// The storage slot of this field's values; stable across renames, never reused.
    #[serde(skip)]
    pub slot: u32,
}

/// Per-type options. Unknown option keys are ignored, like PocketBase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FieldKind {
    Text(TextOptions),
    Number(NumberOptions),
    Bool(RequiredOnly),
    Email(DomainOptions),
    Url(DomainOptions),
    Editor(EditorOptions),
    Date(DateOptions),
    Autodate(AutodateOptions),
    Select(SelectOptions),
    Json(JsonOptions),
    Relation(RelationOptions),
    File(FileOptions),
    Password(PasswordOptions),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct TextOptions {
    pub required: bool,
    pub primary_key: bool,
    pub min: u64,
    pub max: u64,
    pub pattern: String,
    pub autogenerate_pattern: String,
    /// Basalt: indexed for full-text search.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub searchable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct NumberOptions {
    pub required: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub only_int: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RequiredOnly {
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct DomainOptions {
    pub required: bool,
    pub only_domains: Option<Vec<String>>,
    pub except_domains: Option<Vec<String>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub searchable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct EditorOptions {
    pub required: bool,
    pub max_size: u64,
    #[serde(rename = "convertURLs")]
    pub convert_urls: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub searchable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct DateOptions {
    pub required: bool,
    pub min: String,
    pub max: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct AutodateOptions {
    pub on_create: bool,
    pub on_update: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct SelectOptions {
    pub required: bool,
    pub max_select: u32,
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub searchable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct JsonOptions {
    pub required: bool,
    pub max_size: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub searchable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RelationOptions {
    pub required: bool,
    pub collection_id: String,
    pub cascade_delete: bool,
    pub min_select: u32,
    pub max_select: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct FileOptions {
    pub required: bool,
    pub max_select: u32,
    pub max_size: u64,
    pub mime_types: Vec<String>,
    pub thumbs: Vec<String>,
    pub protected: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordOptions {
    pub required: bool,
    pub min: u64,
    pub max: u64,
    pub pattern: String,
    pub cost: u32,
}

impl FieldKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text(_) => "text",
            FieldKind::Number(_) => "number",
            FieldKind::Bool(_) => "bool",
            FieldKind::Email(_) => "email",
            FieldKind::Url(_) => "url",
            FieldKind::Editor(_) => "editor",
            FieldKind::Date(_) => "date",
            FieldKind::Autodate(_) => "autodate",
            FieldKind::Select(_) => "select",
            FieldKind::Json(_) => "json",
            FieldKind::Relation(_) => "relation",
            FieldKind::File(_) => "file",
            FieldKind::Password(_) => "password",
        }
    }

    pub fn required(&self) -> bool {
        match self {
            FieldKind::Text(o) => o.required,
            FieldKind::Number(o) => o.required,
            FieldKind::Bool(o) => o.required,
            FieldKind::Email(o) | FieldKind::Url(o) => o.required,
            FieldKind::Editor(o) => o.required,
            FieldKind::Date(o) => o.required,
            FieldKind::Autodate(_) => false,
            FieldKind::Select(o) => o.required,
            FieldKind::Json(o) => o.required,
            FieldKind::Relation(o) => o.required,
            FieldKind::File(o) => o.required,
            FieldKind::Password(o) => o.required,
        }
    }

    /// Whether the field holds a list of values (multi select, relation or file).
    pub fn is_multiple(&self) -> bool {
        match self {
            FieldKind::Select(o) => o.max_select > 1,
            FieldKind::Relation(o) => o.max_select != 1,
            FieldKind::File(o) => o.max_select > 1,
            _ => false,
        }
    }

    /// Whether full-text search indexes this field.
    pub fn searchable(&self) -> bool {
        match self {
            FieldKind::Text(o) => o.searchable,
            FieldKind::Email(o) | FieldKind::Url(o) => o.searchable,
            FieldKind::Editor(o) => o.searchable,
            FieldKind::Select(o) => o.searchable,
            FieldKind::Json(o) => o.searchable,
            _ => false,
        }
    }

    /// The value a record holds when nothing was set.
    pub fn zero(&self) -> Value {
        match self {
            FieldKind::Number(_) => Value::Number(0.0),
            FieldKind::Bool(_) => Value::Bool(false),
            FieldKind::Json(_) => Value::Json(serde_json::Value::Null),
            k if k.is_multiple() => Value::List(Vec::new()),
            _ => Value::Text(String::new()),
        }
    }
}

impl Field {
    pub fn new(name: &str, kind: FieldKind) -> Field {
        Field {
            id: String::new(),
            name: name.to_owned(),
            system: false,
            hidden: false,
            presentable: false,
            help: None,
            kind,
            slot: 0,
        }
    }

    pub fn relation(&self) -> Option<&RelationOptions> {
        match &self.kind {
            FieldKind::Relation(o) => Some(o),
            _ => None,
        }
    }
}
