//! `/api/openapi.json` and `/api/docs`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

async fn document(s: &TestServer) -> Value {
    let (status, doc) = s.call(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "no schema {name}");
    s
}

/// Every `$ref` points at a component that exists.
fn assert_refs_resolve(doc: &Value, node: &Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let path = r.strip_prefix("#/").expect("local ref");
                let target = path.split('/').fold(doc, |v, seg| &v[seg]);
                assert!(!target.is_null(), "dangling $ref {r}");
            }
            map.values().for_each(|v| assert_refs_resolve(doc, v));
        }
        Value::Array(items) => items.iter().for_each(|v| assert_refs_resolve(doc, v)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_a_schema_per_collection() {
    let s = TestServer::start().await;
    let users = s
        .create_collection(json!({"name": "oa_users", "type": "auth"}))
        .await;
    s.create_collection(json!({
        "name": "oa_posts",
        "fields": [
            {"name": "title", "type": "text", "required": true, "min": 3, "max": 120, "pattern": "^[A-Za-z ]+$"},
            {"name": "views", "type": "number", "min": 0, "max": 500, "onlyInt": true},
            {"name": "status", "type": "select", "required": true, "maxSelect": 1, "values": ["draft", "live"]},
            {"name": "labels", "type": "select", "maxSelect": 2, "values": ["a", "b", "c"]},
            {"name": "contact", "type": "email", "required": true},
            {"name": "site", "type": "url"},
            {"name": "due", "type": "date"},
            {"name": "meta", "type": "json"},
            {"name": "author", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
            {"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 1000},
            {"name": "created", "type": "autodate", "onCreate": true},
        ],
    }))
    .await;
    let doc = document(&s).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_refs_resolve(&doc, &doc);

    let create = schema(&doc, "RecordCreate.oa_posts");
    let required: Vec<&str> = create["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        required.contains(&"title") && required.contains(&"status"),
        "{required:?}"
    );
    assert!(!required.contains(&"views"));
    let props = &create["properties"];
    assert_eq!(props["title"]["minLength"], 3);
    assert_eq!(props["title"]["maxLength"], 120);
    assert_eq!(props["title"]["pattern"], "^[A-Za-z ]+$");
    assert_eq!(props["views"]["type"], "integer");
    assert_eq!(props["views"]["minimum"], 0.0);
    assert_eq!(props["views"]["maximum"], 500.0);
    assert_eq!(props["status"]["enum"], json!(["draft", "live"]));
    assert_eq!(props["labels"]["items"]["enum"], json!(["a", "b", "c"]));
    assert_eq!(props["labels"]["maxItems"], 2);
    assert_eq!(props["contact"]["format"], "email");
    assert!(props["created"].is_null(), "autodate is not input");
    assert!(props["cover"].is_null(), "files are multipart parts");

    let multipart = schema(&doc, "RecordCreateMultipart.oa_posts");
    assert_eq!(multipart["properties"]["cover"]["format"], "binary");

    let read = schema(&doc, "Record.oa_posts");
    assert_eq!(read["properties"]["created"]["readOnly"], true);
    assert_eq!(read["properties"]["collectionName"]["const"], "oa_posts");

    let auth = schema(&doc, "RecordCreate.oa_users");
    assert!(auth["properties"]["password"]["writeOnly"] == true);
    assert!(auth["properties"]["passwordConfirm"].is_object());
    assert!(schema(&doc, "Record.oa_users")["properties"]["password"].is_null());

    let paths = &doc["paths"];
    let list = &paths["/api/collections/oa_posts/records"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in [
        "page",
        "perPage",
        "sort",
        "filter",
        "expand",
        "fields",
        "skipTotal",
        "search",
    ] {
        assert!(names.contains(&p), "list lacks {p}: {names:?}");
    }
    let create_op = &paths["/api/collections/oa_posts/records"]["post"]["requestBody"]["content"];
    assert_eq!(
        create_op["multipart/form-data"]["schema"]["$ref"],
        "#/components/schemas/RecordCreateMultipart.oa_posts"
    );
    assert!(paths["/api/collections/oa_users/auth-with-password"]["post"].is_object());
    assert!(paths["/api/collections/oa_posts/auth-with-password"].is_null());
    assert_eq!(
        paths["/api/collections/{collection}"]["delete"]["x-superuser-only"],
        true
    );
    assert_eq!(paths["/api/settings"]["patch"]["x-superuser-only"], true);
    assert!(paths["/api/collections/oa_posts/records"]["get"]["x-superuser-only"].is_null());
    let scheme = &doc["components"]["securitySchemes"]["authToken"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["name"], "Authorization");
    assert_eq!(
        schema(&doc, "ErrorEnvelope")["properties"]["status"]["type"],
        "integer"
    );
}

#[tokio::test]
async fn the_document_follows_schema_changes_at_once() {
    let s = TestServer::start().await;
    s.create_collection(json!({
        "name": "oa_notes",
        "fields": [{"name": "body", "type": "text"}],
    }))
    .await;
    let doc = document(&s).await;
    assert!(schema(&doc, "Record.oa_notes")["properties"]["mood"].is_null());

    let (status, out) = s
        .call(
            Method::PATCH,
            "/api/collections/oa_notes",
            Some(json!({"fields": [
                {"name": "body", "type": "text"},
                {"name": "mood", "type": "select", "maxSelect": 1, "values": ["calm", "loud"], "required": true},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let doc = document(&s).await;
    let mood = &schema(&doc, "RecordCreate.oa_notes")["properties"]["mood"];
    assert_eq!(mood["enum"], json!(["calm", "loud"]));

    let (status, out) = s
        .call(Method::DELETE, "/api/collections/oa_notes", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{out}");
    let doc = document(&s).await;
    assert!(doc["components"]["schemas"]["Record.oa_notes"].is_null());
    assert!(doc["paths"]["/api/collections/oa_notes/records"].is_null());
}

#[tokio::test]
async fn every_route_of_the_router_is_documented() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    for (path, methods) in basalt_api::PLAIN_ROUTES {
        let key = path
            .split('/')
            .map(
                |seg| match seg.strip_prefix(':').or_else(|| seg.strip_prefix('*')) {
                    Some(name) => format!("{{{name}}}"),
                    None => seg.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        for method in methods.iter() {
            let op = &doc["paths"][&key][method.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{method} {key} is not documented");
            assert!(
                op["responses"].is_object(),
                "{method} {key} has no responses"
            );
        }
    }
    // The static endpoints are served from the same declarations that document them.
    for (path, method) in [
        ("/api/health", "get"),
        ("/api/health", "head"),
        ("/api/files/token", "post"),
        ("/api/backups", "get"),
        ("/api/backups/{key}", "get"),
        ("/api/backups/{key}/restore", "post"),
        ("/api/policies", "post"),
        ("/api/policies/explain/{collection}", "get"),
        ("/api/roles/links/{id}", "delete"),
        ("/api/roles/records/{collection}/{record}", "get"),
        ("/api/settings", "patch"),
        ("/api/settings/test/email", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let (status, body) = s.call_as(None, Method::GET, "/api/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"message": "API is healthy.", "code": 200, "data": {}})
    );
    let (status, body) = s.call(Method::PUT, "/api/health", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn only_superusers_get_the_document() {
    let s = TestServer::start().await;
    s.create_collection(json!({"name": "oa_people", "type": "auth", "createRule": ""}))
        .await;
    s.create_record(
        "oa_people",
        json!({"email": "p@example.com", "password": "12345678", "passwordConfirm": "12345678"}),
    )
    .await;
    let (status, login) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/oa_people/auth-with-password",
            Some(json!({"identity": "p@example.com", "password": "12345678"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    for token in [None, login["token"].as_str()] {
        let (status, body) = s
            .call_as(token, Method::GET, "/api/openapi.json", None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "superuser_only");
    }
}

#[tokio::test]
async fn the_viewer_loads_only_local_assets() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .get(format!("{}/api/docs", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = resp.text().await.unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in page.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(url.starts_with("/api/docs/"), "non-local asset {url}");
            assets.push(url.to_owned());
        }
    }
    assert_eq!(assets.len(), 3, "{assets:?}");
    for url in assets {
        let resp = s
            .client
            .get(format!("{}{url}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        let body = resp.text().await.unwrap();
        assert!(body.len() > 500, "{url} is nearly empty");
    }
    let viewer = s
        .client
        .get(format!("{}/api/docs/viewer.js", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(viewer.contains("/api/openapi.json"));
    let (status, body) = s
        .call_as(None, Method::GET, "/api/docs/nope.js", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
