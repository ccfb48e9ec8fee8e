//! Per collection of the catalog: concrete record (and auth) paths typed with the
//! collection's own schemas.

use basalt_core::schema::{Catalog, Collection, CollectionType};
use serde_json::{json, Map, Value};

use super::auth_ops::auth_operation;
use super::ops::{
    insert, list_of, list_params, no_content, ok_json, op, path_param, record_body, schema_ref,
    shape_params, with, Access,
};
use super::schemas::{record_schema, Shape};

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
    let record = schema_name(c, Shape::Read);
    for (path, methods) in crate::router::PLAIN_ROUTES {
        let Some(action) = path.strip_prefix("/api/collections/:collection/") else {
            continue;
        };
        if action.contains('/') {
            continue;
        }
        let Some(mut o) = auth_operation(action, Some(&record)) else {
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
    if let Some(mut o) =
        super::plain::operation("/api/collections/:collection/impersonate/:id", "POST")
    {
        o["operationId"] = json!(format!("impersonate.{}", c.name));
        o["tags"] = json!([format!("{} auth", c.name)]);
        o["parameters"] = json!([path_param("id", "The auth record's id.")]);
        o["responses"]["200"] = ok_json(json!({"type": "object", "properties": {
            "token": {"type": "string"}, "record": schema_ref(&record)}}))["200"]
            .clone();
        insert(paths, &key, "post", o);
    }
}
