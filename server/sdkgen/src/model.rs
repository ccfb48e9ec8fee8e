//! The generator's view of a schema: only what shapes the types, read from the
//! collections JSON the API serves (`GET /api/collections` items).

use serde_json::Value;

use crate::Error;

/// The collections a client is generated for, sorted by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub collections: Vec<CollectionDef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectionKind {
    Base,
    Auth,
    View,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CollectionDef {
    pub id: String,
    pub name: String,
    pub kind: CollectionKind,
    /// In schema order.
    pub fields: Vec<FieldDef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
    Bool,
    Email,
    Url,
    Editor,
    Date,
    Autodate,
    Select,
    Json,
    Relation,
    File,
    Password,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: FieldType,
    pub required: bool,
    pub hidden: bool,
    pub system: bool,
    /// Select, relation and file fields holding more than one value (maxSelect > 1).
    pub multi: bool,
    /// Select values, in schema order.
    pub values: Vec<String>,
    /// Relation fields: the name of the related collection, when it is in the schema.
    pub target: Option<String>,
    /// Text fields filled by the server when absent (the `id` field).
    pub autogenerate: bool,
    pub searchable: bool,
}

impl Schema {
    /// Reads the collections from `json`: a list envelope `{items: [...]}` or an
    /// array of collections. System collections are left out, except `_superusers`.
    pub fn from_json(json: &Value) -> Result<Schema, Error> {
        let items = match json {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("items") {
                Some(Value::Array(a)) => a,
                _ => return Err(Error::Schema("expected an \"items\" array".into())),
            },
            _ => return Err(Error::Schema("expected an array of collections".into())),
        };
        let mut collections = Vec::new();
        for item in items {
            let system = item.get("system").and_then(Value::as_bool).unwrap_or(false);
            let name = str_of(item, "name");
            if system && name != "_superusers" {
                continue;
            }
            collections.push(parse_collection(item)?);
        }
        collections.sort_by(|a, b| a.name.cmp(&b.name));
        let ids: Vec<(String, String)> = items
            .iter()
            .map(|c| (str_of(c, "id"), str_of(c, "name")))
            .collect();
        for c in &mut collections {
            for f in &mut c.fields {
                if let Some(target) = f.target.take() {
                    f.target = ids
                        .iter()
                        .find(|(id, name)| *id == target || *name == target)
                        .map(|(_, name)| name.clone())
                        .filter(|n| items.iter().any(|c| str_of(c, "name") == *n && included(c)));
                }
            }
        }
        Ok(Schema { collections })
    }

    pub fn collection(&self, name: &str) -> Option<&CollectionDef> {
        self.collections.iter().find(|c| c.name == name)
    }
}

fn included(c: &Value) -> bool {
    !c.get("system").and_then(Value::as_bool).unwrap_or(false) || str_of(c, "name") == "_superusers"
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn parse_collection(c: &Value) -> Result<CollectionDef, Error> {
    let name = str_of(c, "name");
    if name.is_empty() {
        return Err(Error::Schema("a collection without a name".into()));
    }
    let kind = match str_of(c, "type").as_str() {
        "" | "base" => CollectionKind::Base,
        "auth" => CollectionKind::Auth,
        "view" => CollectionKind::View,
        other => {
            return Err(Error::Schema(format!(
                "collection \"{name}\" has an unknown type \"{other}\""
            )))
        }
    };
    let Some(Value::Array(fields)) = c.get("fields") else {
        return Err(Error::Schema(format!(
            "collection \"{name}\" has no fields array"
        )));
    };
    let fields = fields
        .iter()
        .map(|f| parse_field(&name, f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CollectionDef {
        id: str_of(c, "id"),
        name,
        kind,
        fields,
    })
}

fn parse_field(collection: &str, f: &Value) -> Result<FieldDef, Error> {
    let name = str_of(f, "name");
    let ty = match str_of(f, "type").as_str() {
        "text" => FieldType::Text,
        "number" => FieldType::Number,
        "bool" => FieldType::Bool,
        "email" => FieldType::Email,
        "url" => FieldType::Url,
        "editor" => FieldType::Editor,
        "date" => FieldType::Date,
        "autodate" => FieldType::Autodate,
        "select" => FieldType::Select,
        "json" => FieldType::Json,
        "relation" => FieldType::Relation,
        "file" => FieldType::File,
        "password" => FieldType::Password,
        other => {
            return Err(Error::Schema(format!(
                "field \"{collection}.{name}\" has an unknown type \"{other}\""
            )))
        }
    };
    if name.is_empty() {
        return Err(Error::Schema(format!(
            "collection \"{collection}\" has a field without a name"
        )));
    }
    let flag = |key: &str| f.get(key).and_then(Value::as_bool).unwrap_or(false);
    let max_select = f.get("maxSelect").and_then(Value::as_u64).unwrap_or(0);
    let values = match f.get("values") {
        Some(Value::Array(v)) => v
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let target =
        Some(str_of(f, "collectionId")).filter(|t| !t.is_empty() && ty == FieldType::Relation);
    Ok(FieldDef {
        ty,
        required: flag("required"),
        hidden: flag("hidden"),
        system: flag("system"),
        multi: matches!(
            ty,
            FieldType::Select | FieldType::Relation | FieldType::File
        ) && max_select > 1,
        values,
        target,
        autogenerate: !str_of(f, "autogeneratePattern").is_empty(),
        searchable: flag("searchable"),
        name,
    })
}

impl CollectionDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}
