//! The generic operations of the plain poem routes (`router::PLAIN_ROUTES`) and the
//! shared components they reference.

use serde_json::{json, Map, Value};

use super::auth_ops::auth_operation;
use super::ops::{
    insert, json_body, json_content, list_of, list_params, no_content, ok_json, op, openapi_path,
    path_param, query, record_body, schema_ref, shape_params, with, Access,
};

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
    // What a collection create or update may send; responses use `Collection`, derived
    // from core's type (see `core_schemas`).
    out.insert(
        "CollectionInput".into(),
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
        "LogEntry".into(),
        json!({"type": "object", "required": ["id", "created", "updated", "level", "message", "data"], "properties": {
            "id": {"type": "string"}, "created": {"type": "string"}, "updated": {"type": "string"},
            "level": {"type": "integer", "description": "0 info, 4 warn, 8 error"},
            "message": {"type": "string"},
            "data": {"type": "object", "description": "`method`, `url`, `status`, `execTime` (ms), `auth`, `authId`, `userIP`, `remoteIP`, `userAgent`, `referer`."},
        }}),
    );
    out.insert(
        "PersonalData".into(),
        json!({"type": "object", "required": ["exported", "collection", "record", "related", "files"], "properties": {
            "exported": {"type": "string"},
            "collection": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
            "record": {"$ref": "#/components/schemas/Record"},
            "related": {"type": "object", "description": "By collection name: the records its deletion deletes (`@purge: delete`) or unlinks (`@purge: unlink`).",
                        "additionalProperties": {"type": "array", "items": {"type": "object"}}},
            "files": {"type": "array", "items": {"type": "object"}},
        }}),
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
            json_body(schema_ref("CollectionInput"), true),
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
                    "collections": {"type": "array", "items": schema_ref("CollectionInput")},
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
                    json_body(schema_ref("CollectionInput"), false),
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
        ("/api/collections/:collection/records/:id/export", "GET") => with(
            op(
                "Personal data",
                "exportUser",
                "Export everything stored about an auth record",
                Access::Superuser,
                ok_json(schema_ref("PersonalData")),
            ),
            "parameters",
            json!([c, path_param("id", "The auth record's id or email.")]),
        ),
        ("/api/collections/:collection/records/:id/purge", "POST") => with(
            op(
                "Personal data",
                "purgeUser",
                "Delete an auth record with what it owns; answers the export taken before",
                Access::Superuser,
                ok_json(schema_ref("PersonalData")),
            ),
            "parameters",
            json!([c, path_param("id", "The auth record's id or email.")]),
        ),
        (p, "POST" | "GET") if p.starts_with("/api/collections/:collection/") => {
            let action = p.trim_start_matches("/api/collections/:collection/");
            let o = auth_operation(action, None)?;
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
        ("/api/x/:plugin/*path", m) => with(
            op(
                "Plugins",
                &format!("pluginRoute{}", m.to_ascii_lowercase()),
                "A route a plugin registered (see docs/plugins.md); its access is the one the plugin declared",
                Access::Anyone,
                json!({"200": {"description": "The plugin's answer", "content": json_content(json!({}))}}),
            ),
            "parameters",
            json!([
                path_param("plugin", "The plugin's name."),
                path_param("path", "The rest of the path (may contain `/`).")
            ]),
        ),
        ("/api/logs", "GET") => with(
            op(
                "Logs",
                "listLogs",
                "List request logs",
                Access::Superuser,
                ok_json(json!({"type": "object", "required": ["page", "perPage", "totalItems", "totalPages", "items"], "properties": {
                    "page": {"type": "integer"}, "perPage": {"type": "integer"},
                    "totalItems": {"type": "integer"}, "totalPages": {"type": "integer"},
                    "items": {"type": "array", "items": schema_ref("LogEntry")},
                }})),
            ),
            "parameters",
            json!([
                query("page", json!({"type": "integer"}), "The page (1-based)."),
                query("perPage", json!({"type": "integer"}), "Items per page (at most 1000)."),
                query("sort", json!({"type": "string"}), "E.g. `-created`, `data.execTime`."),
                query("filter", json!({"type": "string"}), "The filter language over `id`, `created`, `level`, `message`, `data`.")
            ]),
        ),
        ("/api/logs/stats", "GET") => with(
            op(
                "Logs",
                "logStats",
                "Request counts per hour",
                Access::Superuser,
                ok_json(json!({"type": "array", "items": {"type": "object", "required": ["total", "date"], "properties": {
                    "total": {"type": "integer"}, "date": {"type": "string"},
                }}})),
            ),
            "parameters",
            json!([query("filter", json!({"type": "string"}), "As for the list.")]),
        ),
        ("/api/logs/:id", "GET") => with(
            op(
                "Logs",
                "getLog",
                "One request log entry",
                Access::Superuser,
                ok_json(schema_ref("LogEntry")),
            ),
            "parameters",
            json!([path_param("id", "The entry's id.")]),
        ),
        ("/api/metrics", "GET") => op(
            "Meta",
            "metrics",
            "Prometheus metrics (superusers, or the process config's metrics token as a bearer token)",
            Access::Superuser,
            json!({"200": {"description": "The Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}),
        ),
        ("/api/sdk/:lang", "GET") => with(
            op(
                "Meta",
                "downloadSdk",
                "The typed client of the current collections, zipped",
                Access::Superuser,
                json!({"200": {"description": "A zip archive", "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}}),
            ),
            "parameters",
            json!([{"name": "lang", "in": "path", "required": true, "description": "`typescript` or `rust`.",
                    "schema": {"type": "string"}}]),
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
