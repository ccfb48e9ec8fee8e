//! File fields: multipart uploads, serving (types, ranges, caching), thumbnails,
//! protected files with file tokens, modifiers, validation, and blob lifetimes.

use std::io::Cursor;
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

/// One part of a hand-built multipart body: `(name, filename, bytes)`.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

const BOUNDARY: &str = "basaltTestBoundary7MA4YWxkTrZu0gW";

pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(f) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// Sends a multipart body; returns status and JSON.
pub async fn send_multipart(
    s: &TestServer,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = s
        .client
        .request(method, format!("{}{}", s.url, path))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn upload(
    s: &TestServer,
    method: Method,
    path: &str,
    parts: &[Part<'_>],
) -> (StatusCode, Value) {
    send_multipart(s, Some(&s.token), method, path, multipart(parts)).await
}

/// A raw GET: status, headers, bytes.
async fn fetch(
    s: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = s.client.get(format!("{}{}", s.url, path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 9) as u8, 77])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Every blob file under the data dir's storage (thumbnails included).
pub fn blobs(dir: &Path) -> Vec<String> {
    let root = dir.join("storage");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

async fn docs(s: &TestServer) -> Value {
    s.create_collection(json!({
        "name": "docs",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "files", "type": "file", "maxSelect": 3, "maxSize": 1000},
            {"name": "image", "type": "file", "maxSelect": 1, "mimeTypes": ["image/png", "image/jpeg"],
             "thumbs": ["10x10", "0x5", "20x0", "10x10t", "10x10f"]},
        ],
        "indexes": ["CREATE UNIQUE INDEX idx_docs_title ON docs (title)"],
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    }))
    .await
}

fn names(record: &Value, field: &str) -> Vec<String> {
    match &record[field] {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        Value::String(s) if s.is_empty() => vec![],
        Value::String(s) => vec![s.clone()],
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn upload_download_bytes_equal_with_types_ranges_and_etags() {
    let s = TestServer::start().await;
    docs(&s).await;
    let image = png(40, 20);
    let (status, rec) = upload(
        &s,
        Method::POST,
        "/api/collections/docs/records",
        &[
            ("@jsonPayload", None, br#"{"title": "first"}"#),
            ("files", Some("Hello World.TXT"), b"hello world, some text"),
            ("files", Some("data.bin"), &[0u8, 1, 2, 3, 255, 254]),
            ("image", Some("pic.png"), &image),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    assert_eq!(rec["title"], "first");
    let files = names(&rec, "files");
    assert_eq!(files.len(), 2);
    assert!(
        files[0].starts_with("hello_world_") && files[0].ends_with(".txt"),
        "{files:?}"
    );
    assert_eq!(files[0].len(), "hello_world_".len() + 10 + ".txt".len());
    let id = rec["id"].as_str().unwrap();
    let base = format!("/api/files/docs/{id}");

    let (status, headers, bytes) = fetch(&s, &format!("{base}/{}", files[0]), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"hello world, some text");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(headers["accept-ranges"], "bytes");
    let (_, _, bin) = fetch(&s, &format!("{base}/{}", files[1]), &[]).await;
    assert_eq!(bin, [0u8, 1, 2, 3, 255, 254]);

    let img_name = rec["image"].as_str().unwrap();
    let (status, headers, bytes) = fetch(&s, &format!("{base}/{img_name}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, image);
    assert_eq!(headers["content-type"], "image/png");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    let (_, headers, _) = fetch(&s, &format!("{base}/{img_name}?download=1"), &[]).await;
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    // Ranges.
    let url = format!("{base}/{}", files[0]);
    let (status, headers, bytes) = fetch(&s, &url, &[("Range", "bytes=0-4")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(bytes, b"hello");
    assert_eq!(headers["content-range"], "bytes 0-4/22");
    let (status, _, bytes) = fetch(&s, &url, &[("Range", "bytes=-4")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(bytes, b"text");
    let (status, headers, _) = fetch(&s, &url, &[("Range", "bytes=100-")]).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(headers["content-range"], "bytes */22");

    // Caching.
    let (_, headers, _) = fetch(&s, &url, &[]).await;
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let (status, _, bytes) = fetch(&s, &url, &[("If-None-Match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(bytes.is_empty());

    // A name the record does not hold is not served.
    let (status, _, _) = fetch(&s, &format!("{base}/other_1234567890.txt"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn thumbs_only_for_listed_sizes_generated_once() {
    let s = TestServer::start().await;
    docs(&s).await;
    let image = png(40, 20);
    let (status, rec) = upload(
        &s,
        Method::POST,
        "/api/collections/docs/records",
        &[("image", Some("pic.png"), &image)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    let id = rec["id"].as_str().unwrap();
    let name = rec["image"].as_str().unwrap();
    let url = format!("/api/files/docs/{id}/{name}");
    let dims = |bytes: &[u8]| {
        let img = image::load_from_memory(bytes).unwrap();
        (img.width(), img.height())
    };
    for (thumb, want) in [
        ("10x10", (10, 10)),
        ("0x5", (10, 5)),
        ("20x0", (20, 10)),
        ("10x10t", (10, 10)),
        ("10x10f", (10, 5)),
    ] {
        let (status, headers, bytes) = fetch(&s, &format!("{url}?thumb={thumb}"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{thumb}");
        assert_eq!(headers["content-type"], "image/png");
        assert_eq!(dims(&bytes), want, "{thumb}");
    }
    // Not listed, or not a size at all: the original.
    for thumb in ["30x30", "../../secret", "0x0"] {
        let (status, _, bytes) = fetch(&s, &format!("{url}?thumb={thumb}"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes, image, "{thumb}");
    }
    // Cached: one blob per size, the same bytes again.
    let thumbs: Vec<String> = blobs(s.dir())
        .into_iter()
        .filter(|b| b.contains("thumbs_"))
        .collect();
    assert_eq!(thumbs.len(), 5, "{thumbs:?}");
    let (_, _, again) = fetch(&s, &format!("{url}?thumb=10x10"), &[]).await;
    assert_eq!(dims(&again), (10, 10));
    assert_eq!(
        blobs(s.dir())
            .iter()
            .filter(|b| b.contains("thumbs_"))
            .count(),
        5
    );
}

async fn signup(s: &TestServer, email: &str) -> (String, String) {
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/records",
            Some(json!({"email": email, "password": "password123", "passwordConfirm": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/auth-with-password",
            Some(json!({"identity": email, "password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, body["token"].as_str().unwrap().to_owned())
}

async fn file_token(s: &TestServer, auth: Option<&str>) -> (StatusCode, Value) {
    s.call_as(auth, Method::POST, "/api/files/token", None)
        .await
}

#[tokio::test]
async fn protected_files_need_a_file_token_that_passes_the_view_rule() {
    let s = TestServer::start().await;
    s.create_collection(json!({"name": "users", "type": "auth", "createRule": ""}))
        .await;
    let (alice_id, alice) = signup(&s, "alice@example.com").await;
    let (_, bob) = signup(&s, "bob@example.com").await;
    let users = s.call(Method::GET, "/api/collections/users", None).await.1;
    s.create_collection(json!({
        "name": "vault",
        "fields": [
            {"name": "owner", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
            {"name": "doc", "type": "file", "maxSelect": 1, "protected": true},
            {"name": "cover", "type": "file", "maxSelect": 1},
        ],
        "viewRule": "owner = @request.auth.id",
    }))
    .await;
    let (status, rec) = upload(
        &s,
        Method::POST,
        "/api/collections/vault/records",
        &[
            ("owner", None, alice_id.as_bytes()),
            ("doc", Some("secret.txt"), b"alice's secret"),
            ("cover", Some("cover.txt"), b"public cover"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    let url = format!(
        "/api/files/vault/{}/{}",
        rec["id"].as_str().unwrap(),
        rec["doc"].as_str().unwrap()
    );

    // Guests get no file token; without a token the protected file is not found.
    assert_eq!(file_token(&s, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(fetch(&s, &url, &[]).await.0, StatusCode::NOT_FOUND);
    // An auth token is not a file token.
    assert_eq!(
        fetch(&s, &format!("{url}?token={alice}"), &[]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&s, &format!("{url}?token=garbage"), &[]).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, body) = file_token(&s, Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let alice_ft = body["token"].as_str().unwrap().to_owned();
    let (status, headers, bytes) = fetch(&s, &format!("{url}?token={alice_ft}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"alice's secret");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("private"));

    // Bob's token is valid but the view rule hides Alice's record from him.
    let bob_ft = file_token(&s, Some(&bob)).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        fetch(&s, &format!("{url}?token={bob_ft}"), &[]).await.0,
        StatusCode::NOT_FOUND
    );
    // Superusers pass any rule.
    let su_ft = file_token(&s, Some(&s.token)).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        fetch(&s, &format!("{url}?token={su_ft}"), &[]).await.0,
        StatusCode::OK
    );

    // Unprotected files are served by name, as in PocketBase.
    let cover = format!(
        "/api/files/vault/{}/{}",
        rec["id"].as_str().unwrap(),
        rec["cover"].as_str().unwrap()
    );
    assert_eq!(fetch(&s, &cover, &[]).await.2, b"public cover");
}

#[tokio::test]
async fn modifiers_replace_append_remove_and_clear_and_old_blobs_go() {
    let s = TestServer::start().await;
    docs(&s).await;
    let (_, rec) = upload(
        &s,
        Method::POST,
        "/api/collections/docs/records",
        &[
            ("files", Some("a.txt"), b"aaa"),
            ("files", Some("b.txt"), b"bbb"),
        ],
    )
    .await;
    let id = rec["id"].as_str().unwrap().to_owned();
    let path = format!("/api/collections/docs/records/{id}");
    let [a, b] = <[String; 2]>::try_from(names(&rec, "files")).unwrap();

    // Append.
    let (status, rec) = upload(
        &s,
        Method::PATCH,
        &path,
        &[("files+", Some("c.txt"), b"ccc")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    let now = names(&rec, "files");
    assert_eq!(now.len(), 3);
    assert_eq!(&now[..2], [a.clone(), b.clone()]);
    let c = now[2].clone();
    // Prepend is refused beyond maxSelect.
    let (status, err) = upload(
        &s,
        Method::PATCH,
        &path,
        &[("+files", Some("d.txt"), b"ddd")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["data"]["files"]["code"], "validation_too_many_files");

    // Remove by name (JSON body) deletes the blob once durable.
    let (status, rec) = s
        .call(Method::PATCH, &path, Some(json!({"files-": [a]})))
        .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    assert_eq!(names(&rec, "files"), [b.clone(), c.clone()]);
    wait_until_gone(&s, &a).await;

    // Replace: plain values of the key are kept, new uploads follow them.
    let (status, rec) = upload(
        &s,
        Method::PATCH,
        &path,
        &[
            ("files", None, c.as_bytes()),
            ("files", Some("e.txt"), b"eee"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    let now = names(&rec, "files");
    assert_eq!(now[0], c);
    assert_eq!(now.len(), 2);
    wait_until_gone(&s, &b).await;

    // Clear with null, "" and [].
    for clear in [json!(null), json!(""), json!([])] {
        let (_, rec) = upload(&s, Method::PATCH, &path, &[("files", Some("x.txt"), b"x")]).await;
        assert_eq!(names(&rec, "files").len(), 1);
        let (status, rec) = s
            .call(Method::PATCH, &path, Some(json!({ "files": clear })))
            .await;
        assert_eq!(status, StatusCode::OK, "{rec}");
        assert_eq!(rec["files"], json!([]));
    }
    wait_for(|| blobs(s.dir()).is_empty()).await;
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("condition not reached");
}

async fn wait_until_gone(s: &TestServer, name: &str) {
    wait_for(|| !blobs(s.dir()).iter().any(|b| b.ends_with(name))).await;
}

#[tokio::test]
async fn bad_uploads_are_field_errors_and_leave_no_blob() {
    let s = TestServer::start().await;
    docs(&s).await;
    let records = "/api/collections/docs/records";
    let big = vec![b'x'; 1001];
    let cases: Vec<(Vec<Part>, &str, &str)> = vec![
        (
            vec![("files", Some("big.txt"), &big)],
            "files",
            "validation_file_size_limit",
        ),
        (
            vec![("image", Some("fake.png"), b"not a png at all")],
            "image",
            "validation_invalid_mime_type",
        ),
        (
            vec![
                ("files", Some("1.txt"), b"1"),
                ("files", Some("2.txt"), b"2"),
                ("files", Some("3.txt"), b"3"),
                ("files", Some("4.txt"), b"4"),
            ],
            "files",
            "validation_too_many_files",
        ),
        (
            vec![("title", Some("t.txt"), b"t")],
            "title",
            "validation_unknown_file_field",
        ),
        (
            vec![("nope", Some("n.txt"), b"n")],
            "nope",
            "validation_unknown_file_field",
        ),
    ];
    for (parts, field, code) in cases {
        let (status, err) = upload(&s, Method::POST, records, &parts).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["status"], 400);
        assert_eq!(err["data"][field]["code"], code, "{err}");
    }
    // Malformed multipart bodies.
    for body in [
        b"--nope\r\n".to_vec(),
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a\"\r\n\r\nunterminated").into_bytes(),
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n{{bad json\r\n--{BOUNDARY}--\r\n").into_bytes(),
    ] {
        let (status, err) = send_multipart(&s, Some(&s.token), Method::POST, records, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    }
    // A body beyond every limit is refused without reading it all.
    let huge = vec![b'x'; 38 << 20];
    let (status, _) = upload(
        &s,
        Method::POST,
        records,
        &[("files", Some("huge.txt"), &huge)],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(blobs(s.dir()).is_empty(), "{:?}", blobs(s.dir()));
}

#[tokio::test]
async fn failing_writes_leave_no_orphans() {
    let s = TestServer::start().await;
    docs(&s).await;
    let records = "/api/collections/docs/records";
    let (status, first) = upload(
        &s,
        Method::POST,
        records,
        &[("title", None, b"same"), ("files", Some("one.txt"), b"1")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(blobs(s.dir()).len(), 1);
    // Unique violation at commit.
    let (status, err) = upload(
        &s,
        Method::POST,
        records,
        &[("title", None, b"same"), ("files", Some("two.txt"), b"2")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(blobs(s.dir()).len(), 1, "{:?}", blobs(s.dir()));
    // The same on update, and the old file stays.
    let (_, second) = upload(&s, Method::POST, records, &[("title", None, b"other")]).await;
    let path = format!(
        "/api/collections/docs/records/{}",
        second["id"].as_str().unwrap()
    );
    let (status, _) = upload(
        &s,
        Method::PATCH,
        &path,
        &[("title", None, b"same"), ("files", Some("three.txt"), b"3")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A rule that rejects the create.
    s.call(
        Method::PATCH,
        "/api/collections/docs",
        Some(json!({"createRule": "title = 'allowed'"})),
    )
    .await;
    let (status, _) = send_multipart(
        &s,
        None,
        Method::POST,
        records,
        multipart(&[
            ("title", None, b"denied"),
            ("files", Some("four.txt"), b"4"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let left = blobs(s.dir());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(first["files"][0].as_str().unwrap()));
}

#[tokio::test]
async fn deleting_records_cascades_and_collections_removes_blobs() {
    let s = TestServer::start().await;
    let docs = docs(&s).await;
    s.create_collection(json!({
        "name": "notes",
        "fields": [
            {"name": "doc", "type": "relation", "collectionId": docs["id"], "maxSelect": 1, "cascadeDelete": true},
            {"name": "att", "type": "file", "maxSelect": 1},
        ],
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    }))
    .await;
    let image = png(8, 8);
    let (_, doc) = upload(
        &s,
        Method::POST,
        "/api/collections/docs/records",
        &[
            ("files", Some("a.txt"), b"a"),
            ("image", Some("i.png"), &image),
        ],
    )
    .await;
    let doc_id = doc["id"].as_str().unwrap().to_owned();
    // A cached thumbnail goes with its record too.
    let thumb = format!(
        "/api/files/docs/{doc_id}/{}?thumb=10x10",
        doc["image"].as_str().unwrap()
    );
    assert_eq!(fetch(&s, &thumb, &[]).await.0, StatusCode::OK);
    let (status, note) = upload(
        &s,
        Method::POST,
        "/api/collections/notes/records",
        &[
            ("doc", None, doc_id.as_bytes()),
            ("att", Some("n.txt"), b"n"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{note}");
    assert_eq!(blobs(s.dir()).len(), 4, "{:?}", blobs(s.dir()));

    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/collections/docs/records/{doc_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    wait_for(|| blobs(s.dir()).is_empty()).await;

    let (_, note) = upload(
        &s,
        Method::POST,
        "/api/collections/notes/records",
        &[("att", Some("m.txt"), b"m")],
    )
    .await;
    assert_eq!(blobs(s.dir()).len(), 1, "{note}");
    let (status, _) = s.call(Method::DELETE, "/api/collections/notes", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    wait_for(|| blobs(s.dir()).is_empty()).await;
}

#[tokio::test]
async fn no_name_reaches_outside_the_storage() {
    let s = TestServer::start().await;
    docs(&s).await;
    std::fs::write(s.dir().join("outside.txt"), b"outside").unwrap();
    let (status, rec) = upload(
        &s,
        Method::POST,
        "/api/collections/docs/records",
        &[
            ("files", Some("../../outside.txt"), b"mine"),
            ("files", Some("..\\..\\x.txt"), b"x"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    for name in names(&rec, "files") {
        assert!(
            !name.contains('/') && !name.contains('\\') && !name.starts_with('.'),
            "{name}"
        );
    }
    let id = rec["id"].as_str().unwrap();
    assert_eq!(
        std::fs::read(s.dir().join("outside.txt")).unwrap(),
        b"outside"
    );
    // Names the record does not hold, encoded or not, are all 404 (or not routed).
    for path in [
        format!("/api/files/docs/{id}/..%2F..%2Foutside.txt"),
        format!("/api/files/docs/{id}/%2E%2E"),
        format!("/api/files/docs/..%2F..%2F/{id}"),
        "/api/files/..%2F..%2F/x/outside.txt".to_owned(),
        format!("/api/files/docs/..%2F{id}/x.txt"),
        format!(
            "/api/files/docs/{id}/{}?thumb=..%2F..%2Foutside.txt",
            names(&rec, "files")[0]
        ),
    ] {
        let (status, _, bytes) = fetch(&s, &path, &[]).await;
        assert_ne!(bytes, b"outside", "{path}");
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::OK,
            "{path}: {status}"
        );
    }
    // Setting a file field to a name not uploaded is refused.
    let (status, err) = s
        .call(
            Method::PATCH,
            &format!("/api/collections/docs/records/{id}"),
            Some(json!({"files": ["../../outside.txt"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["data"]["files"]["code"], "validation_invalid_file");
}

#[tokio::test]
async fn removing_a_file_field_removes_its_files_renaming_keeps_them() {
    let s = TestServer::start().await;
    let coll = s
        .create_collection(json!({
            "name": "albums",
            "fields": [
                {"name": "cover", "type": "file", "maxSelect": 1},
                {"name": "extra", "type": "file", "maxSelect": 1},
            ],
            "viewRule": "", "createRule": "",
        }))
        .await;
    let (status, rec) = upload(
        &s,
        Method::POST,
        "/api/collections/albums/records",
        &[
            ("cover", Some("c.txt"), b"c"),
            ("extra", Some("e.txt"), b"e"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    let mut fields = coll["fields"].as_array().unwrap().clone();
    // Rename `cover` to `front`, drop `extra`.
    fields.retain(|f| f["name"] != "extra");
    for f in fields.iter_mut() {
        if f["name"] == "cover" {
            f["name"] = json!("front");
        }
    }
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/albums",
            Some(json!({ "fields": fields })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let extra = rec["extra"].as_str().unwrap().to_owned();
    wait_until_gone(&s, &extra).await;
    let cover = rec["cover"].as_str().unwrap();
    let url = format!("/api/files/albums/{}/{cover}", rec["id"].as_str().unwrap());
    assert_eq!(fetch(&s, &url, &[]).await.2, b"c");
}
