//! Building blocks of the hand-described operations: the envelope as every error
//! response, the security requirement per `Access`, parameters and bodies.

use serde_json::{json, Map, Value};

use super::typing::AUTH_SCHEME;

const ENVELOPE: &str = "#/components/schemas/ErrorEnvelope";

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Anyone; a token, when sent, identifies the caller to the collection's rules.
    Anyone,
    /// An authenticated caller.
    Authenticated,
    /// Superusers only.
    Superuser,
}

pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub(super) fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

pub(super) fn json_body(schema: Value, required: bool) -> Value {
    json!({
        "required": required,
        "content": {
            "application/json": {"schema": schema.clone()},
            "application/x-www-form-urlencoded": {"schema": schema},
        },
    })
}

/// An operation: its errors are the envelope; `ok` maps statuses to responses.
pub(super) fn op(tag: &str, id: &str, summary: &str, access: Access, ok: Value) -> Value {
    let mut responses = ok.as_object().cloned().unwrap_or_default();
    for (status, description) in [
        (
            "400",
            "Invalid input (the envelope's `data` names the fields)",
        ),
        ("401", "Authentication required"),
        ("403", "Not allowed"),
        ("404", "Not found"),
        ("413", "Body too large"),
        ("429", "Too many requests"),
    ] {
        responses.entry(status).or_insert_with(|| {
            json!({"description": description, "content": json_content(json!({"$ref": ENVELOPE}))})
        });
    }
    let (security, note) = match access {
        Access::Anyone => (json!([{}, { AUTH_SCHEME: [] }]), ""),
        Access::Authenticated => (json!([{ AUTH_SCHEME: [] }]), "Requires an auth token. "),
        Access::Superuser => (json!([{ AUTH_SCHEME: [] }]), "Superusers only. "),
    };
    let mut out = json!({
        "tags": [tag],
        "operationId": id,
        "summary": summary,
        "security": security,
        "responses": responses,
    });
    if !note.is_empty() {
        out["description"] = json!(note.trim_end());
    }
    if access == Access::Superuser {
        out["x-superuser-only"] = json!(true);
    }
    out
}

pub(super) fn with(mut op: Value, key: &str, value: Value) -> Value {
    op[key] = value;
    op
}

pub(super) fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}})
}

pub(super) fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": schema})
}

pub(super) fn ok_json(schema: Value) -> Value {
    json!({"200": {"description": "OK", "content": json_content(schema)}})
}

pub(super) fn no_content() -> Value {
    json!({"204": {"description": "Done"}})
}

/// `list` parameters of records.
pub(super) fn list_params(collection_param: bool) -> Value {
    let mut params = vec![
        query(
            "page",
            json!({"type": "integer", "minimum": 1, "default": 1}),
            "The page (1-based).",
        ),
        query(
            "perPage",
            json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 30}),
            "Items per page (at most 1000).",
        ),
        query(
            "sort",
            json!({"type": "string"}),
            "Comma-separated fields, `-` for descending, `@random`.",
        ),
        query(
            "filter",
            json!({"type": "string"}),
            "A filter expression, e.g. `published = true && created > '2024-01-01'`.",
        ),
        query(
            "expand",
            json!({"type": "string"}),
            "Relations to expand, nested with dots (`author.team`), back-relations as `x_via_y`.",
        ),
        query(
            "fields",
            json!({"type": "string"}),
            "Comma-separated fields to return (`*`, `expand.author.name`, `title:excerpt(200)`).",
        ),
        query(
            "skipTotal",
            json!({"type": "boolean"}),
            "Skip counting: `totalItems` and `totalPages` are -1.",
        ),
        query(
            "search",
            json!({"type": "string"}),
            "Full-text search over the collection's searchable fields, ranked (BM25).",
        ),
        query(
            "searchHighlight",
            json!({"type": "boolean"}),
            "With `search`: each item gets `@search` with its score and highlights.",
        ),
    ];
    if collection_param {
        params.insert(0, path_param("collection", "The collection's id or name."));
    }
    Value::Array(params)
}

pub(super) fn shape_params(collection_param: bool, id: bool) -> Value {
    let mut params = Vec::new();
    if collection_param {
        params.push(path_param("collection", "The collection's id or name."));
    }
    if id {
        params.push(path_param("id", "The record's id."));
    }
    params.push(query(
        "expand",
        json!({"type": "string"}),
        "Relations to expand.",
    ));
    params.push(query(
        "fields",
        json!({"type": "string"}),
        "Fields to return.",
    ));
    Value::Array(params)
}

pub(super) fn list_of(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["page", "perPage", "totalItems", "totalPages", "items"],
        "properties": {
            "page": {"type": "integer"},
            "perPage": {"type": "integer"},
            "totalItems": {"type": "integer", "description": "-1 with `skipTotal`."},
            "totalPages": {"type": "integer", "description": "-1 with `skipTotal`."},
            "items": {"type": "array", "items": item},
        },
    })
}

/// A record create or update body: JSON, or multipart with the files.
pub(super) fn record_body(json_schema: Value, multipart: Value, required: bool) -> Value {
    json!({
        "required": required,
        "content": {
            "application/json": {"schema": json_schema},
            "multipart/form-data": {"schema": multipart},
        },
    })
}

/// A JSON or form body of required string fields.
pub(super) fn string_fields_body(fields: &[&str]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|f| ((*f).to_owned(), json!({"type": "string"})))
        .collect();
    json_body(
        json!({"type": "object", "required": fields, "properties": props}),
        true,
    )
}

/// `:name` (and the rest-of-path `*name`) segments as `{name}`.
pub fn openapi_path(path: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix(':').or_else(|| seg.strip_prefix('*')) {
                Some(name) => format!("{{{name}}}"),
                None => seg.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

pub(super) fn insert(paths: &mut Map<String, Value>, path: &str, method: &str, o: Value) {
    let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
    entry[method.to_ascii_lowercase()] = o;
}
