use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::kit::TestServer;

#[tokio::test]
async fn create_rename_and_delete_a_collection() {
    let s = TestServer::start().await;
    let c = s
        .create_collection(json!({
            "name": "posts",
            "fields": [
                {"name": "title", "type": "text", "required": true, "max": 100},
                {"name": "views", "type": "number", "onlyInt": true},
                {"name": "kind", "type": "select", "values": ["a", "b"], "maxSelect": 1},
            ],
            "indexes": ["CREATE UNIQUE INDEX idx_title ON posts (title)"],
            "listRule": "",
        }))
        .await;
    assert_eq!(c["name"], "posts");
    assert_eq!(c["type"], "base");
    assert_eq!(c["fields"][0]["name"], "id");
    assert_eq!(c["listRule"], "");
    assert!(c["viewRule"].is_null());
    let title = c["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "title")
        .unwrap()
        .clone();
    let title_id = title["id"].as_str().unwrap().to_owned();

    let mut fields = c["fields"].as_array().unwrap().clone();
    for f in &mut fields {
        if f["name"] == "title" {
            f["name"] = json!("headline");
        }
    }
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/posts",
            Some(json!({"fields": fields, "indexes": []})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renamed = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "headline")
        .unwrap()
        .clone();
    assert_eq!(renamed["id"], title_id.as_str());

    let (status, body) = s.call(Method::GET, "/api/collections", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "posts"));

    let (status, _) = s.call(Method::DELETE, "/api/collections/posts", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.call(Method::GET, "/api/collections/posts", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_collections_report_every_problem() {
    let s = TestServer::start().await;
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections",
            Some(json!({"name": "bad name!", "fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "bool"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["data"]["name"]["code"].is_string(), "{body}");
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections",
            Some(json!({"name": "good", "fields": [{"name": "a", "type": "text"}, {"name": "A", "type": "bool"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["data"]["fields"].is_object(), "{body}");
}

#[tokio::test]
async fn a_collection_referenced_by_a_relation_cannot_be_deleted() {
    let s = TestServer::start().await;
    let authors = s
        .create_collection(json!({"name": "authors", "fields": [{"name": "name", "type": "text"}]}))
        .await;
    s.create_collection(json!({
        "name": "books",
        "fields": [{"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1}],
    }))
    .await;
    let (status, body) = s
        .call(Method::DELETE, "/api/collections/authors", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = s.call(Method::GET, "/api/collections/authors", None).await;
    assert_eq!(status, StatusCode::OK);
}
