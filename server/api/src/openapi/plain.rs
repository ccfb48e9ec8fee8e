//! The document's part for the plain poem routes (`router::PLAIN_ROUTES`): the generic
//! operations, and per collection of the current catalog the concrete record and auth
//! operations with that collection's own schemas.

use basalt_core::schema::{Catalog, Collection, CollectionType};
use serde_json::{json, Map, Value};

use super::schemas::{record_schema, Shape};
use super::typing::AUTH_SCHEME;

const ENVELOPE: &str = "#/components/schemas/ErrorEnvelope";

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone; a token, when sent, identifies the caller to the collection's rules.
    Anyone,
    /// An authenticated caller.
    Authenticated,
    /// Superusers only.
    Superuser,
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn json_body(schema: Value, required: bool) -> Value {
    json!({
        "required": required,
        "content": {
            "application/json": {"schema": schema.clone()},
            "application/x-www-form-urlencoded": {"schema": schema},
        },
    })
}

/// An operation: its errors are the envelope; `ok` maps statuses to responses.
fn op(tag: &str, id: &str, summary: &str, access: Access, ok: Value) -> Value {
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

fn with(mut op: Value, key: &str, value: Value) -> Value {
    op[key] = value;
    op
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}})
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": schema})
}

fn ok_json(schema: Value) -> Value {
    json!({"200": {"description": "OK", "content": json_content(schema)}})
}

fn no_content() -> Value {
    json!({"204": {"description": "Done"}})
}

/// `list` parameters of records.
fn list_params(collection_param: bool) -> Value {
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

fn shape_params(collection_param: bool, id: bool) -> Value {
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

fn list_of(item: Value) -> Value {
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

/// Components the plain operations reference.
pub fn components() -> Map<String, Value> {
    let rule = json!({"type": ["string", "null"], "description": "`null`: superusers only; `\"\"`: anyone; otherwise a filter expression."});
    let mut out = Map::new();
    out.insert(
        "Record".into(),
        json!({"type": "object", "description": "A record of any collection.",
               "properties": {"id": {"type": "string"}, "collectionId": {"type": "string"}, "collectionName": {"type": "string"}}}),
    );
    out.insert(
        "RecordInput".into(),
        json!({"type": "object", "description": "Field values of any collection."}),
    );
    out.insert(
        "Collection".into(),
        json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                "type": {"type": "string", "enum": ["base", "auth", "view"]},
                "system": {"type": "boolean"},
                "fields": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "type": {"type": "string", "enum": ["text", "number", "bool", "email", "url", "editor", "date", "autodate", "select", "json", "relation", "file", "password"]},
                    "required": {"type": "boolean"}, "hidden": {"type": "boolean"}, "system": {"type": "boolean"},
                }, "required": ["name", "type"]}},
                "indexes": {"type": "array", "items": {"type": "string"}},
                "listRule": rule, "viewRule": rule, "createRule": rule, "updateRule": rule, "deleteRule": rule,
                "created": {"type": "string"}, "updated": {"type": "string"},
            },
        }),
    );
    out.insert(
        "AuthResponse".into(),
        json!({"type": "object", "required": ["token", "record"], "properties": {
            "token": {"type": "string", "description": "A JWT; send it as `Authorization`."},
            "record": {"$ref": "#/components/schemas/Record"},
            "meta": {"type": "object", "description": "OAuth2: the provider's user data."},
        }}),
    );
    out
}

/// The generic operation of one plain route, or `None` for an unknown one.
pub fn operation(path: &str, method: &str) -> Option<Value> {
    let c = path_param("collection", "The collection's id or name.");
    let email_body = |fields: &[&str]| {
        let props: Map<String, Value> = fields
            .iter()
            .map(|f| ((*f).to_owned(), json!({"type": "string"})))
            .collect();
        json_body(
            json!({"type": "object", "required": fields, "properties": props}),
            true,
        )
    };
    let auth_ok = ok_json(schema_ref("AuthResponse"));
    let tag = "Collections";
    let o = match (path, method) {
        ("/api/batch", "POST") => with(
            op(
                "Batch",
                "batch",
                "Run record writes all-or-nothing",
                Access::Anyone,
                ok_json(json!({
                    "type": "array",
                    "items": {"type": "object", "properties": {"status": {"type": "integer"}, "body": {}}},
                })),
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "required": ["requests"], "properties": {"requests": {
                    "type": "array",
                    "items": {"type": "object", "required": ["method", "url"], "properties": {
                        "method": {"type": "string", "enum": ["POST", "PUT", "PATCH", "DELETE"]},
                        "url": {"type": "string", "description": "`/api/collections/{c}/records[/{id}]`"},
                        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                        "body": {"type": "object"},
                    }},
                }}}),
                true,
            ),
        ),
        ("/api/realtime", "GET") => op(
            "Realtime",
            "realtimeConnect",
            "Open the realtime event stream",
            Access::Anyone,
            json!({"200": {"description": "Server-sent events; the first is `PB_CONNECT` with `clientId`.",
                   "content": {"text/event-stream": {"schema": {"type": "string"}}}}}),
        ),
        ("/api/realtime", "POST") => with(
            op(
                "Realtime",
                "realtimeSubscribe",
                "Set a realtime client's subscriptions",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "required": ["clientId"], "properties": {
                    "clientId": {"type": "string"},
                    "subscriptions": {"type": "array", "items": {"type": "string"}, "description": "`collection/*` or `collection/recordId`"},
                }}),
                true,
            ),
        ),
        ("/api/oauth2-redirect", m) => with(
            op(
                "Auth",
                &format!("oauth2Redirect{}", if m == "GET" { "" } else { "Post" }),
                "OAuth2 provider redirect (relayed to the realtime client)",
                Access::Anyone,
                json!({"200": {"description": "A page that closes itself", "content": {"text/html": {"schema": {"type": "string"}}}},
                      "400": {"description": "Unknown or failed login", "content": {"text/html": {"schema": {"type": "string"}}}}}),
            ),
            "parameters",
            json!([
                query("state", json!({"type": "string"}), "The login's state."),
                query("code", json!({"type": "string"}), "The provider's code.")
            ]),
        ),
        ("/api/collections", "GET") => with(
            op(
                tag,
                "listCollections",
                "List collections",
                Access::Superuser,
                ok_json(list_of(schema_ref("Collection"))),
            ),
            "parameters",
            json!([
                query(
                    "page",
                    json!({"type": "integer", "minimum": 1}),
                    "The page."
                ),
                query(
                    "perPage",
                    json!({"type": "integer", "minimum": 1}),
                    "Items per page."
                ),
                query("sort", json!({"type": "string"}), "Sort fields."),
                query(
                    "filter",
                    json!({"type": "string"}),
                    "A filter over the collections."
                ),
                query("skipTotal", json!({"type": "boolean"}), "Skip counting.")
            ]),
        ),
        ("/api/collections", "POST") => with(
            op(
                tag,
                "createCollection",
                "Create a collection",
                Access::Superuser,
                ok_json(schema_ref("Collection")),
            ),
            "requestBody",
            json_body(schema_ref("Collection"), true),
        ),
        ("/api/collections/import", "PUT") => with(
            op(
                tag,
                "importCollections",
                "Import collections",
                Access::Superuser,
                no_content(),
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "required": ["collections"], "properties": {
                    "collections": {"type": "array", "items": schema_ref("Collection")},
                    "deleteMissing": {"type": "boolean"},
                }}),
                true,
            ),
        ),
        ("/api/collections/:collection", m) => {
            let o = match m {
                "GET" => op(
                    tag,
                    "getCollection",
                    "View a collection",
                    Access::Superuser,
                    ok_json(schema_ref("Collection")),
                ),
                "PATCH" => with(
                    op(
                        tag,
                        "updateCollection",
                        "Update a collection",
                        Access::Superuser,
                        ok_json(schema_ref("Collection")),
                    ),
                    "requestBody",
                    json_body(schema_ref("Collection"), false),
                ),
                "DELETE" => op(
                    tag,
                    "deleteCollection",
                    "Delete a collection",
                    Access::Superuser,
                    no_content(),
                ),
                _ => return None,
            };
            with(o, "parameters", json!([c]))
        }
        ("/api/collections/:collection/records", "GET") => with(
            op(
                "Records",
                "listRecords",
                "List records",
                Access::Anyone,
                ok_json(list_of(schema_ref("Record"))),
            ),
            "parameters",
            list_params(true),
        ),
        ("/api/collections/:collection/records", "POST") => with(
            with(
                op(
                    "Records",
                    "createRecord",
                    "Create a record",
                    Access::Anyone,
                    ok_json(schema_ref("Record")),
                ),
                "parameters",
                shape_params(true, false),
            ),
            "requestBody",
            record_body(schema_ref("RecordInput"), schema_ref("RecordInput"), false),
        ),
        ("/api/collections/:collection/records/:id", m) => {
            let params = shape_params(true, true);
            match m {
                "GET" => with(
                    op(
                        "Records",
                        "getRecord",
                        "View a record",
                        Access::Anyone,
                        ok_json(schema_ref("Record")),
                    ),
                    "parameters",
                    params,
                ),
                "PATCH" => with(
                    with(
                        op(
                            "Records",
                            "updateRecord",
                            "Update a record",
                            Access::Anyone,
                            ok_json(schema_ref("Record")),
                        ),
                        "parameters",
                        params,
                    ),
                    "requestBody",
                    record_body(schema_ref("RecordInput"), schema_ref("RecordInput"), false),
                ),
                "DELETE" => with(
                    op(
                        "Records",
                        "deleteRecord",
                        "Delete a record",
                        Access::Anyone,
                        no_content(),
                    ),
                    "parameters",
                    json!([c, path_param("id", "The record's id.")]),
                ),
                _ => return None,
            }
        }
        ("/api/collections/:collection/impersonate/:id", "POST") => with(
            with(
                op(
                    "Auth",
                    "impersonate",
                    "Issue a non-refreshable token for an auth record",
                    Access::Superuser,
                    auth_ok,
                ),
                "parameters",
                json!([c, path_param("id", "The auth record's id.")]),
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "properties": {
                "duration": {"type": "integer", "minimum": 0, "description": "Seconds; 0 = the collection's default."}}}),
                false,
            ),
        ),
        (p, "POST" | "GET") if p.starts_with("/api/collections/:collection/") => {
            let action = p.trim_start_matches("/api/collections/:collection/");
            let o = auth_operation(action, None, &email_body)?;
            with(o, "parameters", json!([c]))
        }
        ("/api/files/:collection/:record/:filename", "GET") => with(
            op(
                "Files",
                "getFile",
                "Download a file",
                Access::Anyone,
                json!({
                    "200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                    "206": {"description": "A range of the file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                    "304": {"description": "Not modified (`If-None-Match`)"},
                    "416": {"description": "Range not satisfiable"},
                }),
            ),
            "parameters",
            json!([
                c,
                path_param("record", "The record's id."),
                path_param("filename", "The stored file name."),
                query(
                    "thumb",
                    json!({"type": "string"}),
                    "A thumb size of the field, e.g. `100x100`."
                ),
                query(
                    "token",
                    json!({"type": "string"}),
                    "A file token (`/api/files/token`) for protected files."
                ),
                query(
                    "download",
                    json!({"type": "boolean"}),
                    "Serve as an attachment."
                )
            ]),
        ),
        ("/api/backups/upload", "POST") => with(
            with(
                op(
                    "Backups",
                    "uploadBackup",
                    "Upload a backup archive",
                    Access::Superuser,
                    no_content(),
                ),
                "parameters",
                json!([query(
                    "name",
                    json!({"type": "string"}),
                    "The archive's name, `<key>.zip`."
                )]),
            ),
            "requestBody",
            json!({"required": true, "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            }}),
        ),
        ("/api/openapi.json", "GET") => op(
            "Meta",
            "openapi",
            "This document",
            Access::Superuser,
            ok_json(json!({"type": "object", "description": "An OpenAPI 3.1 document."})),
        ),
        ("/api/docs", "GET") => op(
            "Meta",
            "docs",
            "The interactive API viewer",
            Access::Anyone,
            json!({"200": {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}),
        ),
        ("/api/docs/:asset", "GET") => with(
            op(
                "Meta",
                "docsAsset",
                "An asset of the viewer",
                Access::Anyone,
                json!({"200": {"description": "The asset", "content": {"*/*": {"schema": {"type": "string"}}}}}),
            ),
            "parameters",
            json!([path_param(
                "asset",
                "`swagger-ui.js`, `swagger-ui.css` or `viewer.js`."
            )]),
        ),
        _ => return None,
    };
    Some(o)
}

/// A record create or update body: JSON, or multipart with the files.
fn record_body(json_schema: Value, multipart: Value, required: bool) -> Value {
    json!({
        "required": required,
        "content": {
            "application/json": {"schema": json_schema},
            "multipart/form-data": {"schema": multipart},
        },
    })
}

/// The auth endpoints of auth collections; `record` is the collection's record schema.
fn auth_operation(
    action: &str,
    record: Option<&str>,
    email_body: &dyn Fn(&[&str]) -> Value,
) -> Option<Value> {
    let record = record
        .map(schema_ref)
        .unwrap_or_else(|| schema_ref("Record"));
    let auth_ok = ok_json(
        json!({"type": "object", "required": ["token", "record"], "properties": {
        "token": {"type": "string"}, "record": record, "meta": {"type": "object"}}}),
    );
    let a = "Auth";
    let o = match action {
        "auth-with-password" => with(
            op(
                a,
                "authWithPassword",
                "Log in with a password",
                Access::Anyone,
                auth_ok,
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "required": ["identity", "password"], "properties": {
                "identity": {"type": "string", "description": "The email or another identity field."},
                "password": {"type": "string", "format": "password"},
                "mfaId": {"type": "string"}}}),
                true,
            ),
        ),
        "auth-with-oauth2" => with(
            op(
                a,
                "authWithOAuth2",
                "Log in with an OAuth2 provider",
                Access::Anyone,
                auth_ok,
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "required": ["provider", "code", "codeVerifier", "redirectURL"], "properties": {
                "provider": {"type": "string"}, "code": {"type": "string"}, "codeVerifier": {"type": "string"},
                "redirectURL": {"type": "string"}, "createData": {"type": "object"}, "mfaId": {"type": "string"}}}),
                true,
            ),
        ),
        "auth-refresh" => op(
            a,
            "authRefresh",
            "Refresh the caller's token",
            Access::Authenticated,
            auth_ok,
        ),
        "auth-methods" => op(
            a,
            "authMethods",
            "The collection's login methods",
            Access::Anyone,
            ok_json(json!({"type": "object", "properties": {
                "password": {"type": "object"}, "oauth2": {"type": "object"}, "mfa": {"type": "object"}, "otp": {"type": "object"}}})),
        ),
        "request-verification" => with(
            op(
                a,
                "requestVerification",
                "Send a verification email",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["email"]),
        ),
        "confirm-verification" => with(
            op(
                a,
                "confirmVerification",
                "Confirm a verification",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["token"]),
        ),
        "request-password-reset" => with(
            op(
                a,
                "requestPasswordReset",
                "Send a password reset email",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["email"]),
        ),
        "confirm-password-reset" => with(
            op(
                a,
                "confirmPasswordReset",
                "Set a new password with a reset token",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["token", "password", "passwordConfirm"]),
        ),
        "request-email-change" => with(
            op(
                a,
                "requestEmailChange",
                "Send an email change confirmation",
                Access::Authenticated,
                no_content(),
            ),
            "requestBody",
            email_body(&["newEmail"]),
        ),
        "confirm-email-change" => with(
            op(
                a,
                "confirmEmailChange",
                "Confirm an email change",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["token", "password"]),
        ),
        "request-otp" => with(
            op(
                a,
                "requestOtp",
                "Send a one-time password",
                Access::Anyone,
                ok_json(
                    json!({"type": "object", "required": ["otpId"], "properties": {"otpId": {"type": "string"}}}),
                ),
            ),
            "requestBody",
            email_body(&["email"]),
        ),
        "auth-with-otp" => with(
            op(
                a,
                "authWithOtp",
                "Log in with a one-time password",
                Access::Anyone,
                auth_ok,
            ),
            "requestBody",
            email_body(&["otpId", "password"]),
        ),
        _ => return None,
    };
    Some(o)
}

/// Adds the generic operations of every plain route.
pub fn add_generic(paths: &mut Map<String, Value>) {
    for (path, methods) in crate::router::PLAIN_ROUTES {
        let key = openapi_path(path);
        for method in methods.iter() {
            if let Some(o) = operation(path, method.as_str()) {
                insert(paths, &key, method.as_str(), o);
            }
        }
    }
}

/// `:name` segments as `{name}`.
pub fn openapi_path(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn insert(paths: &mut Map<String, Value>, path: &str, method: &str, o: Value) {
    let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
    entry[method.to_ascii_lowercase()] = o;
}

/// A component-safe name of a collection's schema.
pub fn schema_name(c: &Collection, shape: Shape) -> String {
    let prefix = match shape {
        Shape::Read => "Record",
        Shape::Create => "RecordCreate",
        Shape::Update => "RecordUpdate",
        Shape::CreateMultipart => "RecordCreateMultipart",
        Shape::UpdateMultipart => "RecordUpdateMultipart",
    };
    format!("{prefix}.{}", c.name)
}

/// Adds the concrete operations and schemas of every collection in `catalog`.
pub fn add_collections(
    catalog: &Catalog,
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
) {
    for c in catalog.iter() {
        let shapes = [
            Shape::Read,
            Shape::Create,
            Shape::Update,
            Shape::CreateMultipart,
            Shape::UpdateMultipart,
        ];
        for shape in shapes {
            schemas.insert(schema_name(c, shape), record_schema(c, shape));
        }
        add_record_paths(c, paths);
        if c.is_auth() {
            add_auth_paths(c, paths);
        }
    }
}

fn op_id(base: &str, c: &Collection) -> String {
    format!("{base}.{}", c.name)
}

fn add_record_paths(c: &Collection, paths: &mut Map<String, Value>) {
    let name = &c.name;
    let read = schema_ref(&schema_name(c, Shape::Read));
    let tag = format!("{name} records");
    let list = format!("/api/collections/{name}/records");
    let one = format!("{list}/{{id}}");
    let list_op = op(
        &tag,
        &op_id("list", c),
        &format!("List {name} records"),
        Access::Anyone,
        ok_json(list_of(read.clone())),
    );
    insert(
        paths,
        &list,
        "get",
        with(list_op, "parameters", list_params(false)),
    );
    let view = op(
        &tag,
        &op_id("view", c),
        &format!("View a {name} record"),
        Access::Anyone,
        ok_json(read.clone()),
    );
    insert(
        paths,
        &one,
        "get",
        with(view, "parameters", shape_params(false, true)),
    );
    if c.kind == CollectionType::View {
        return;
    }
    let body = |json_shape, multi_shape, required| {
        record_body(
            schema_ref(&schema_name(c, json_shape)),
            schema_ref(&schema_name(c, multi_shape)),
            required,
        )
    };
    let create = op(
        &tag,
        &op_id("create", c),
        &format!("Create a {name} record"),
        Access::Anyone,
        ok_json(read.clone()),
    );
    let create = with(
        with(create, "parameters", shape_params(false, false)),
        "requestBody",
        body(Shape::Create, Shape::CreateMultipart, true),
    );
    insert(paths, &list, "post", create);
    let update = op(
        &tag,
        &op_id("update", c),
        &format!("Update a {name} record"),
        Access::Anyone,
        ok_json(read),
    );
    let update = with(
        with(update, "parameters", shape_params(false, true)),
        "requestBody",
        body(Shape::Update, Shape::UpdateMultipart, false),
    );
    insert(paths, &one, "patch", update);
    let delete = op(
        &tag,
        &op_id("delete", c),
        &format!("Delete a {name} record"),
        Access::Anyone,
        no_content(),
    );
    insert(
        paths,
        &one,
        "delete",
        with(
            delete,
            "parameters",
            json!([path_param("id", "The record's id.")]),
        ),
    );
}

fn add_auth_paths(c: &Collection, paths: &mut Map<String, Value>) {
    let email_body = |fields: &[&str]| {
        let props: Map<String, Value> = fields
            .iter()
            .map(|f| ((*f).to_owned(), json!({"type": "string"})))
            .collect();
        json_body(
            json!({"type": "object", "required": fields, "properties": props}),
            true,
        )
    };
    let record = schema_name(c, Shape::Read);
    for (path, methods) in crate::router::PLAIN_ROUTES {
        let Some(action) = path.strip_prefix("/api/collections/:collection/") else {
            continue;
        };
        if action.contains('/') {
            continue;
        }
        let Some(mut o) = auth_operation(action, Some(&record), &email_body) else {
            continue;
        };
        let base = o["operationId"].as_str().unwrap_or_default().to_owned();
        o["operationId"] = json!(format!("{base}.{}", c.name));
        o["tags"] = json!([format!("{} auth", c.name)]);
        let key = format!("/api/collections/{}/{action}", c.name);
        for method in methods.iter() {
            insert(paths, &key, method.as_str(), o.clone());
        }
    }
    let key = format!("/api/collections/{}/impersonate/{{id}}", c.name);
    if let Some(mut o) = operation("/api/collections/:collection/impersonate/:id", "POST") {
        o["operationId"] = json!(format!("impersonate.{}", c.name));
        o["tags"] = json!([format!("{} auth", c.name)]);
        o["parameters"] = json!([path_param("id", "The auth record's id.")]);
        o["responses"]["200"] = ok_json(json!({"type": "object", "properties": {
            "token": {"type": "string"}, "record": schema_ref(&record)}}))["200"]
            .clone();
        insert(paths, &key, "post", o);
    }
}
