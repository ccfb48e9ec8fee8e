//! `POST /api/batch`: all-or-nothing writes across collections, each through the
//! same rules as its single-request twin.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::files::{blobs, multipart, send_multipart};
use crate::kit::TestServer;

async fn setup(s: &TestServer) {
    let authors = s
        .create_collection(json!({
            "name": "authors",
            "fields": [{"name": "name", "type": "text", "required": true}],
            "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": null,
        }))
        .await;
    s.create_collection(json!({
        "name": "posts",
        "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1, "cascadeDelete": true},
            {"name": "views", "type": "number"},
        ],
        "indexes": ["CREATE UNIQUE INDEX idx_title ON posts (title)"],
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    }))
    .await;
    enable(s, 10).await;
}

async fn enable(s: &TestServer, max: i64) {
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"batch": {"enabled": true, "maxRequests": max, "timeout": 5}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn count(s: &TestServer, collection: &str) -> i64 {
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/api/collections/{collection}/records?perPage=1"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["totalItems"].as_i64().unwrap()
}

async fn batch_as(s: &TestServer, token: Option<&str>, requests: Value) -> (StatusCode, Value) {
    s.call_as(
        token,
        Method::POST,
        "/api/batch",
        Some(json!({ "requests": requests })),
    )
    .await
}

#[tokio::test]
async fn batch_is_off_until_enabled_in_settings() {
    let s = TestServer::start().await;
    let (status, body) = s
        .call(Method::POST, "/api/batch", Some(json!({"requests": []})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["message"], "Batch requests are not allowed.");
}

#[tokio::test]
async fn writes_across_collections_see_each_other_and_commit_together() {
    let s = TestServer::start().await;
    setup(&s).await;
    let existing = s
        .create_record("posts", json!({"id": "existing0000001", "title": "old"}))
        .await;
    let doomed = s.create_record("posts", json!({"title": "doomed"})).await;
    let requests = json!([
        {"method": "POST", "url": "/api/collections/authors/records",
         "body": {"id": "author000000001", "name": "Ann"}},
        // relates to the author created just before, in the same batch
        {"method": "POST", "url": "/api/collections/posts/records?expand=author&fields=id,title,expand",
         "body": {"id": "post00000000001", "title": "first", "author": "author000000001"}},
        // updates the post created just before
        {"method": "PATCH", "url": "/api/collections/posts/records/post00000000001",
         "body": {"views+": 3}},
        // upsert of an existing record updates it, of a new id creates it
        {"method": "PUT", "url": "/api/collections/posts/records",
         "body": {"id": existing["id"], "title": "renamed"}},
        {"method": "PUT", "url": "/api/collections/posts/records",
         "body": {"id": "upserted0000001", "title": "upserted"}},
        {"method": "DELETE", "url": format!("/api/collections/posts/records/{}", doomed["id"].as_str().unwrap())},
    ]);
    let (status, body) = batch_as(&s, Some(&s.token), requests).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body.as_array().unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[0]["body"]["name"], "Ann");
    assert_eq!(
        results[1]["body"],
        json!({"id": "post00000000001", "title": "first",
               "expand": {"author": results[0]["body"].clone()}})
    );
    assert_eq!(results[2]["body"]["views"], 3);
    assert_eq!(results[3]["body"]["title"], "renamed");
    assert_eq!(results[3]["body"]["id"], existing["id"]);
    assert_eq!(results[4]["body"]["title"], "upserted");
    assert_eq!(results[5], json!({"status": 204, "body": null}));

    let (_, post) = s
        .call(
            Method::GET,
            "/api/collections/posts/records/post00000000001",
            None,
        )
        .await;
    assert_eq!(post["views"], 3);
    assert_eq!(post["author"], "author000000001");
    let doomed_path = format!(
        "/api/collections/posts/records/{}",
        doomed["id"].as_str().unwrap()
    );
    let (status, _) = s.call(Method::GET, &doomed_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(count(&s, "posts").await, 3);
}

#[tokio::test]
async fn one_failing_request_rolls_back_everything_and_is_named() {
    let s = TestServer::start().await;
    setup(&s).await;
    let requests = json!([
        {"method": "POST", "url": "/api/collections/authors/records", "body": {"name": "Ann"}},
        {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": ""}},
    ]);
    let (status, body) = batch_as(&s, Some(&s.token), requests).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "Batch transaction failed.");
    let failed = &body["data"]["requests"]["1"];
    assert_eq!(failed["code"], "batch_request_failed", "{body}");
    assert_eq!(failed["response"]["status"], 400);
    assert_eq!(
        failed["response"]["data"]["title"]["code"],
        "validation_required"
    );
    assert!(body["data"]["requests"].get("0").is_none());
    assert_eq!(count(&s, "authors").await, 0);

    // a unique index broken inside the batch: the second create is to blame
    let requests = json!([
        {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "same"}},
        {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "other"}},
        {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "same"}},
    ]);
    let (status, body) = batch_as(&s, Some(&s.token), requests).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let failed = &body["data"]["requests"]["2"];
    assert_eq!(
        failed["response"]["data"]["title"]["code"], "validation_not_unique",
        "{body}"
    );
    assert_eq!(count(&s, "posts").await, 0);

    // a record id used twice
    let requests = json!([
        {"method": "POST", "url": "/api/collections/authors/records", "body": {"id": "twice0000000001", "name": "a"}},
        {"method": "POST", "url": "/api/collections/authors/records", "body": {"id": "twice0000000001", "name": "b"}},
    ]);
    let (status, body) = batch_as(&s, Some(&s.token), requests).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["data"]["requests"]["1"]["response"]["data"]["id"]["code"],
        "validation_not_unique"
    );
    assert_eq!(count(&s, "authors").await, 0);
}

#[tokio::test]
async fn every_request_passes_its_own_rule() {
    let s = TestServer::start().await;
    setup(&s).await;
    let author = s.create_record("authors", json!({"name": "Ann"})).await;
    let id = author["id"].as_str().unwrap();
    // guests may create authors but only superusers may delete them
    let requests = json!([
        {"method": "POST", "url": "/api/collections/authors/records", "body": {"name": "Bob"}},
        {"method": "DELETE", "url": format!("/api/collections/authors/records/{id}")},
    ]);
    let (status, body) = batch_as(&s, None, requests.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["data"]["requests"]["1"]["response"]["status"], 403,
        "{body}"
    );
    assert_eq!(count(&s, "authors").await, 1);

    // an Authorization header inside a request does not change who the caller is
    let sneaky = json!([
        {"method": "DELETE", "url": format!("/api/collections/authors/records/{id}"),
         "headers": {"Authorization": s.token.clone()}},
    ]);
    let (status, body) = batch_as(&s, None, sneaky.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(count(&s, "authors").await, 1);

    // the superuser may; the cascade removes the author's posts in the same commit
    s.create_record("posts", json!({"title": "by ann", "author": id}))
        .await;
    let (status, body) = batch_as(&s, Some(&s.token), sneaky).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(count(&s, "authors").await, 0);
    assert_eq!(count(&s, "posts").await, 0);

    // rules see @request.context = "batch" and the request's own body
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/authors",
            Some(json!({"createRule": "@request.context = 'batch' && @request.body.name != 'x'"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/authors/records",
            Some(json!({"name": "direct"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let ok = json!([{"method": "POST", "url": "/api/collections/authors/records", "body": {"name": "batched"}}]);
    let (status, body) = batch_as(&s, None, ok).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bad = json!([{"method": "POST", "url": "/api/collections/authors/records", "body": {"name": "x"}}]);
    let (status, _) = batch_as(&s, None, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&s, "authors").await, 1);
}

#[tokio::test]
async fn malformed_batches_are_rejected_with_the_field_named() {
    let s = TestServer::start().await;
    setup(&s).await;
    enable(&s, 2).await;
    let cases = [
        (json!({}), "requests", "validation_required"),
        (json!({"requests": []}), "requests", "validation_required"),
        (
            json!({"requests": "x"}),
            "requests",
            "validation_invalid_value",
        ),
        (
            json!({"requests": [
                {"method": "POST", "url": "/api/collections/authors/records"},
                {"method": "POST", "url": "/api/collections/authors/records"},
                {"method": "POST", "url": "/api/collections/authors/records"},
            ]}),
            "requests",
            "validation_length_too_long",
        ),
    ];
    for (body, field, code) in cases {
        let (status, out) = s.call(Method::POST, "/api/batch", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(out["data"][field]["code"], code, "{out}");
    }
    let (status, out) = s
        .call(
            Method::POST,
            "/api/batch",
            Some(json!({"requests": [{"method": "TRACE", "url": "/x"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(
        out["data"]["requests"]["0"]["method"]["code"],
        "validation_in_invalid"
    );

    // a request that is no record write fails the batch on that request
    let (status, out) = batch_as(
        &s,
        Some(&s.token),
        json!([
            {"method": "POST", "url": "/api/collections/authors/records", "body": {"name": "a"}},
            {"method": "GET", "url": "/api/collections/authors/records"},
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["data"]["requests"]["1"]["code"], "batch_request_failed");
    // unknown collections and records fail with their own status
    let (_, out) = batch_as(
        &s,
        Some(&s.token),
        json!([{"method": "PATCH", "url": "/api/collections/authors/records/nope", "body": {}}]),
    )
    .await;
    assert_eq!(
        out["data"]["requests"]["0"]["response"]["status"], 404,
        "{out}"
    );
    let (_, out) = batch_as(
        &s,
        Some(&s.token),
        json!([{"method": "POST", "url": "/api/collections/nope/records", "body": {}}]),
    )
    .await;
    assert_eq!(
        out["data"]["requests"]["0"]["response"]["status"], 404,
        "{out}"
    );
    assert_eq!(count(&s, "authors").await, 0);
}

#[tokio::test]
async fn files_travel_with_their_request_and_a_failed_batch_leaves_none() {
    let s = TestServer::start().await;
    setup(&s).await;
    s.create_collection(json!({
        "name": "docs",
        "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "files", "type": "file", "maxSelect": 3, "maxSize": 1024},
        ],
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
    }))
    .await;
    let payload = json!({"requests": [
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "a"}},
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "b"}},
    ]})
    .to_string();
    let body = multipart(&[
        ("@jsonPayload", None, payload.as_bytes()),
        ("requests.0.files", Some("one.txt"), b"first"),
        ("requests[1].files", Some("two.txt"), b"second"),
        ("requests.1.files", Some("three.txt"), b"third"),
    ]);
    let (status, out) = send_multipart(&s, Some(&s.token), Method::POST, "/api/batch", body).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out[0]["body"]["files"].as_array().unwrap().len(), 1);
    assert_eq!(out[1]["body"]["files"].as_array().unwrap().len(), 2);
    let record = &out[1]["body"];
    let name = record["files"][1].as_str().unwrap();
    let url = format!(
        "{}/api/files/docs/{}/{name}",
        s.url,
        record["id"].as_str().unwrap()
    );
    let bytes = s
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"third");
    let stored = blobs(s.dir()).len();
    assert_eq!(stored, 3);

    // the second request fails: nothing is written, no file stays behind
    let payload = json!({"requests": [
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "c"}},
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": ""}},
    ]})
    .to_string();
    let body = multipart(&[
        ("@jsonPayload", None, payload.as_bytes()),
        ("requests.0.files", Some("four.txt"), b"fourth"),
    ]);
    let (status, out) = send_multipart(&s, Some(&s.token), Method::POST, "/api/batch", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(blobs(s.dir()).len(), stored, "no orphan blob");
    assert_eq!(count(&s, "docs").await, 2);

    // a file part for a request that does not exist
    let payload = json!({"requests": [
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "d"}},
    ]})
    .to_string();
    let body = multipart(&[
        ("@jsonPayload", None, payload.as_bytes()),
        ("requests.5.files", Some("five.txt"), b"fifth"),
    ]);
    let (status, out) = send_multipart(&s, Some(&s.token), Method::POST, "/api/batch", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(
        out["data"]["requests"]["5"]["files"]["code"], "validation_invalid_file_key",
        "{out}"
    );
    assert_eq!(count(&s, "docs").await, 2);
}
