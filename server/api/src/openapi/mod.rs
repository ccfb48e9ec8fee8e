//! `GET /api/openapi.json` and `GET /api/docs`.
//!
//! The document is built per request from two parts: the static endpoints'
//! spec, which poem-openapi derives from `static_api` (the handlers that serve them and
//! the `dto` types they return), and the plain routes' operations plus, per collection
//! of the request's catalog snapshot, concrete record and auth operations with that
//! collection's read/create/update schemas (`plain`, `schemas`). Nothing is cached, so
//! a schema change shows in the next document.
//!
//! The document names every collection and field, so it is superusers-only, like
//! `/api/collections`; the viewer page itself is public and asks for a token.

mod auth_ops;
mod collections;
mod dto;
mod ops;
mod plain;
mod schemas;
mod static_api;
mod typing;
pub mod viewer;

use std::sync::LazyLock;

use basalt_core::schema::Catalog;
use basalt_core::{Code, Error};
use poem::web::Json;
use poem::{handler, Endpoint, IntoEndpoint};
use poem_openapi::OpenApiService;
use serde_json::{json, Map, Value};

use crate::context::Ctx;
use crate::ApiError;

pub use static_api::StaticApi;

const DESCRIPTION: &str = "Basalt's REST API (PocketBase-shaped). Errors are the envelope \
`{status, message, data, code}`. Authenticate with the `Authorization` header: the token of \
an auth endpoint, raw or as `Bearer <token>`. Operations marked `x-superuser-only` need a \
superuser's token.";

/// The static endpoints as a poem-openapi service.
pub fn static_service() -> OpenApiService<StaticApi, ()> {
    OpenApiService::new(StaticApi, "Basalt", env!("CARGO_PKG_VERSION"))
}

/// The endpoint serving the static API (mounted at each of [`static_paths`]).
pub fn static_endpoint() -> impl Endpoint {
    static_service().into_endpoint()
}

/// The static spec, parsed once (it depends only on the Rust types).
static STATIC_SPEC: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(&static_service().spec()).unwrap_or_else(|_| json!({"paths": {}}))
});

/// The static API's paths, in poem's syntax.
pub fn static_paths() -> Vec<String> {
    let Some(paths) = STATIC_SPEC["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .keys()
        .map(|p| {
            p.split('/')
                .map(
                    |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => format!(":{name}"),
                        None => seg.to_owned(),
                    },
                )
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

/// `GET /api/openapi.json` (superusers only).
#[handler]
pub async fn openapi_json(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let catalog = ctx
        .run(|s, who, _| {
            if !who.is_superuser() {
                return Err(Error::from_code(Code::SuperuserOnly));
            }
            Ok(s.catalog())
        })
        .await?;
    Ok(Json(document(&catalog)))
}

/// The whole document for `catalog`.
pub fn document(catalog: &Catalog) -> Value {
    let mut doc = STATIC_SPEC.clone();
    upgrade_to_3_1(&mut doc);
    mark_static_operations(&mut doc);
    doc["openapi"] = json!("3.1.0");
    doc["info"]["description"] = json!(DESCRIPTION);
    doc["jsonSchemaDialect"] = json!("https://spec.openapis.org/oas/3.1/dialect/base");
    let mut paths = doc["paths"].as_object().cloned().unwrap_or_default();
    plain::add_generic(&mut paths);
    let mut schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    schemas.extend(plain::components());
    schemas.extend(core_schemas());
    for method in ["get", "patch"] {
        respond_with(&mut paths, "/api/settings", method, "Settings");
    }
    collections::add_collections(catalog, &mut paths, &mut schemas);
    doc["paths"] = Value::Object(paths);
    let mut components = doc["components"].as_object().cloned().unwrap_or_default();
    components.insert("schemas".into(), Value::Object(schemas));
    let mut schemes = Map::new();
    schemes.insert(
        typing::AUTH_SCHEME.into(),
        serde_json::to_value(typing::security_scheme()).unwrap_or_default(),
    );
    components.insert("securitySchemes".into(), Value::Object(schemes));
    doc["components"] = Value::Object(components);
    doc
}

/// The JSON shapes core serializes — collection definitions and the app settings — as
/// JSON Schema derived from the Rust types (schemars, serialize contract: a key the
/// server always writes is required). The admin dashboard's types are generated from
/// these.
fn core_schemas() -> Map<String, Value> {
    use basalt_core::schema::Collection;
    use basalt_core::settings::Settings;
    use schemars::generate::SchemaSettings;
    static SCHEMAS: LazyLock<Map<String, Value>> = LazyLock::new(|| {
        let mut generator = SchemaSettings::draft2020_12()
            .with(|s| {
                s.definitions_path = "/components/schemas".into();
                s.meta_schema = None;
            })
            .for_serialize()
            .into_generator();
        generator.subschema_for::<Collection>();
        generator.subschema_for::<Settings>();
        let mut defs = Value::Object(generator.take_definitions(true).into_iter().collect());
        split_ref_siblings(&mut defs);
        match defs {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    });
    SCHEMAS.clone()
}

/// `{"$ref": X, "properties": …}` (a tagged enum variant: the referenced options plus
/// its `type` tag) becomes `{"allOf": [{"$ref": X}, {"properties": …}]}`: valid either
/// way in 3.1, but generators (and 3.0 readers) ignore keys beside a `$ref`.
fn split_ref_siblings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                split_ref_siblings(v);
            }
            let constraining = map
                .keys()
                .any(|k| !matches!(k.as_str(), "$ref" | "description" | "default"));
            if map.contains_key("$ref") && constraining {
                let reference = map.remove("$ref").unwrap_or_default();
                let mut rest = Map::new();
                for key in map.keys().cloned().collect::<Vec<_>>() {
                    if !matches!(key.as_str(), "description" | "default") {
                        if let Some(v) = map.remove(&key) {
                            rest.insert(key, v);
                        }
                    }
                }
                map.insert(
                    "allOf".into(),
                    json!([{ "$ref": reference }, Value::Object(rest)]),
                );
            }
        }
        Value::Array(items) => items.iter_mut().for_each(split_ref_siblings),
        _ => {}
    }
}

/// Points the JSON response of `path`'s `method` at the component `schema`.
fn respond_with(paths: &mut Map<String, Value>, path: &str, method: &str, schema: &str) {
    if let Some(content) = paths
        .get_mut(path)
        .and_then(|p| p.get_mut(method))
        .and_then(|op| op.pointer_mut("/responses/200/content/application~1json"))
    {
        content["schema"] = json!({"$ref": format!("#/components/schemas/{schema}")});
    }
}

/// poem-openapi writes OpenAPI 3.0: `nullable: true` becomes a `null` type (3.1 is
/// JSON Schema 2020-12), and `$ref` siblings move into an `allOf`.
fn upgrade_to_3_1(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                match map.get("type").cloned() {
                    Some(Value::String(ty)) => {
                        map.insert("type".into(), json!([ty, "null"]));
                        if let Some(Value::Array(values)) = map.get_mut("enum") {
                            values.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            for v in map.values_mut() {
                upgrade_to_3_1(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(upgrade_to_3_1),
        _ => {}
    }
}

/// Static operations: the `SuperuserOnly` extractor's security requirement becomes the
/// `x-superuser-only` mark; the others may be called with or without a token.
fn mark_static_operations(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            op["x-superuser-only"] = json!(true);
            let text = op["description"].as_str().unwrap_or_default().to_owned();
            op["description"] = json!(format!("Superusers only. {text}").trim_end());
        } else {
            op["security"] = json!([{}, { typing::AUTH_SCHEME: [] }]);
        }
    }
}

#[cfg(test)]
mod tests {
    /// The admin dashboard generates its TypeScript types (`admin-ui/src/lib/api.gen.ts`,
    /// `npm run types`) from the document's shared schemas, snapshotted in
    /// `admin-ui/src/lib/api-schema.json`. This keeps the snapshot current; rewrite it
    /// with `BASALT_BLESS=1 cargo test -p basalt-api api_schema_snapshot`.
    #[test]
    fn api_schema_snapshot_is_current() {
        let doc = super::document(&basalt_core::schema::Catalog::default());
        let schemas: serde_json::Map<String, serde_json::Value> = doc["components"]["schemas"]
            .as_object()
            .expect("schemas")
            .iter()
            .filter(|(name, _)| !name.contains('.'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let snapshot = serde_json::json!({
            "openapi": doc["openapi"],
            "info": {"title": "Basalt (shared schemas)", "version": "snapshot"},
            "paths": {},
            "components": {"schemas": schemas},
        });
        let text = serde_json::to_string_pretty(&snapshot).unwrap() + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../admin-ui/src/lib/api-schema.json");
        if std::env::var_os("BASALT_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "admin-ui/src/lib/api-schema.json is stale: run BASALT_BLESS=1 cargo test -p basalt-api api_schema_snapshot, then npm run types in admin-ui"
        );
    }
}
