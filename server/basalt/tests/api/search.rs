//! Full-text search on list (`?search=`): ranking, query syntax, filter/sort/paging,
//! rules, freshness after writes, highlights and schema changes — over HTTP against
//! the real server. Index updates are asynchronous (within a second of the ack), so
//! tests poll until the expected result shows, never assert on timing.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

/// How long a test waits for the index to catch up before failing (a hang guard,
/// far above the freshness target).
const PATIENCE: Duration = Duration::from_secs(20);

fn path(collection: &str, query: &[(&str, &str)]) -> String {
    let mut p = format!("/api/collections/{collection}/records?");
    for (k, v) in query {
        p.push_str(&format!("{k}={}&", urlencoding(v)));
    }
    p
}

fn urlencoding(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

async fn search_as(
    s: &TestServer,
    token: Option<&str>,
    collection: &str,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    s.call_as(token, Method::GET, &path(collection, query), None)
        .await
}

async fn search(s: &TestServer, collection: &str, query: &[(&str, &str)]) -> Value {
    let (status, body) = search_as(s, Some(&s.token), collection, query).await;
    assert_eq!(status, StatusCode::OK, "{query:?}: {body}");
    body
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls the search until `done` holds for the response, and returns it.
async fn eventually(
    s: &TestServer,
    collection: &str,
    query: &[(&str, &str)],
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let body = search(s, collection, query).await;
        if done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "search {query:?} never reached the expected state; last: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn articles(s: &TestServer, name: &str, list_rule: Value) -> Value {
    s.create_collection(json!({
        "name": name,
        "fields": [
            {"name": "title", "type": "text", "searchable": true},
            {"name": "body", "type": "editor", "searchable": true},
            {"name": "tag", "type": "select", "values": ["news", "howto"], "searchable": true},
            {"name": "views", "type": "number"},
            {"name": "published", "type": "bool"},
        ],
        "listRule": list_rule, "viewRule": "",
    }))
    .await
}

const CORPUS: &[(&str, &str, &str, &str, i64, bool)] = &[
    (
        "rrrrrrrrrrrrrr1",
        "Rust",
        "<p>Rust rust rust programming</p>",
        "howto",
        10,
        true,
    ),
    (
        "rrrrrrrrrrrrrr2",
        "Systems programming",
        "<p>Written in Rust</p>",
        "news",
        30,
        true,
    ),
    (
        "rrrrrrrrrrrrrr3",
        "Gardening",
        "<p>Remove rust from old garden tools with vinegar and a stiff brush, then oil them, \
         and store them somewhere dry for the whole of the winter season</p>",
        "howto",
        20,
        false,
    ),
    (
        "rrrrrrrrrrrrrr4",
        "Python tips",
        "<p>Nothing relevant here</p>",
        "news",
        40,
        true,
    ),
    (
        "rrrrrrrrrrrrrr5",
        "Café crème",
        "<p>Über naïve résumé</p>",
        "news",
        50,
        false,
    ),
];

async fn load_corpus(s: &TestServer, collection: &str) {
    for (id, title, body, tag, views, published) in CORPUS {
        s.create_record(
            collection,
            json!({"id": id, "title": title, "body": body, "tag": tag,
                   "views": views, "published": published}),
        )
        .await;
    }
    // Records are indexed in commit order: once the last shows, all do.
    eventually(s, collection, &[("search", "cafe")], |b| {
        b["totalItems"] == 1
    })
    .await;
}

#[tokio::test]
async fn ranks_by_relevance_with_phrase_prefix_and_field_queries() {
    let s = TestServer::start().await;
    articles(&s, "ranked", json!("")).await;
    load_corpus(&s, "ranked").await;

    let body = search(&s, "ranked", &[("search", "rust")]).await;
    assert_eq!(
        ids(&body),
        ["rrrrrrrrrrrrrr1", "rrrrrrrrrrrrrr2", "rrrrrrrrrrrrrr3"],
        "{body}"
    );
    assert_eq!(body["totalItems"], 3);
    assert_eq!(body["totalPages"], 1);
    assert!(body["items"][0].get("@search").is_none(), "off by default");

    let cases: &[(&str, &[&str])] = &[
        ("\"written in rust\"", &["rrrrrrrrrrrrrr2"]),
        ("\"rust written\"", &[]),
        ("program*", &["rrrrrrrrrrrrrr1", "rrrrrrrrrrrrrr2"]),
        ("\"garden too\"*", &["rrrrrrrrrrrrrr3"]),
        ("title:rust", &["rrrrrrrrrrrrrr1"]),
        ("title:gardening", &["rrrrrrrrrrrrrr3"]),
        ("tag:news python", &["rrrrrrrrrrrrrr4"]),
        ("rust vinegar", &["rrrrrrrrrrrrrr3"]),
        ("rust -vinegar -programming", &[]),
        ("rust -vinegar", &["rrrrrrrrrrrrrr1", "rrrrrrrrrrrrrr2"]),
        ("CAFÉ", &["rrrrrrrrrrrrrr5"]),
        ("uber resume", &["rrrrrrrrrrrrrr5"]),
        ("p", &[]),
        ("nothingmatches", &[]),
    ];
    for (query, want) in cases {
        let body = search(&s, "ranked", &[("search", query)]).await;
        let mut got = ids(&body);
        got.sort();
        assert_eq!(got, *want, "search {query}: {body}");
        assert_eq!(body["totalItems"], want.len(), "search {query}");
    }
    let body = search(&s, "ranked", &[("search", "python OR vinegar")]).await;
    let mut got = ids(&body);
    got.sort();
    assert_eq!(got, ["rrrrrrrrrrrrrr3", "rrrrrrrrrrrrrr4"]);
}

#[tokio::test]
async fn bad_queries_are_400_with_the_envelope() {
    let s = TestServer::start().await;
    articles(&s, "bad", json!("")).await;
    s.create_collection(json!({"name": "plain", "fields": [{"name": "t", "type": "text"}]}))
        .await;
    let long = "a".repeat(513);
    let many = vec!["w"; 40].join(" ");
    for query in [
        "\"unclosed",
        "(rust",
        "nope:rust",
        "views:5",
        "title:[a TO b]",
        "*",
        "-rust",
        "r*",
        long.as_str(),
        many.as_str(),
    ] {
        let (status, body) = search_as(&s, Some(&s.token), "bad", &[("search", query)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["status"], 400);
        assert_eq!(body["code"], "invalid_search", "{query}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, body) = search_as(&s, Some(&s.token), "plain", &[("search", "x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid_search");
}

#[tokio::test]
async fn search_combines_with_filter_sort_paging_fields_and_expand() {
    let s = TestServer::start().await;
    let combined = articles(&s, "combined", json!("")).await;
    s.create_collection(json!({
        "name": "comments",
        "fields": [
            {"name": "text", "type": "text", "searchable": true},
            {"name": "article", "type": "relation", "collectionId": combined["id"], "maxSelect": 1},
        ],
        "listRule": "", "viewRule": "",
    }))
    .await;
    load_corpus(&s, "combined").await;

    let body = search(
        &s,
        "combined",
        &[("search", "rust"), ("filter", "views >= 20")],
    )
    .await;
    assert_eq!(ids(&body), ["rrrrrrrrrrrrrr2", "rrrrrrrrrrrrrr3"]);
    assert_eq!(body["totalItems"], 2);

    let body = search(&s, "combined", &[("search", "rust"), ("sort", "views")]).await;
    assert_eq!(
        ids(&body),
        ["rrrrrrrrrrrrrr1", "rrrrrrrrrrrrrr3", "rrrrrrrrrrrrrr2"],
        "sort overrides relevance"
    );

    let body = search(
        &s,
        "combined",
        &[("search", "rust"), ("perPage", "2"), ("page", "2")],
    )
    .await;
    assert_eq!(ids(&body), ["rrrrrrrrrrrrrr3"]);
    assert_eq!(body["totalItems"], 3);
    assert_eq!(body["totalPages"], 2);
    assert_eq!(body["page"], 2);

    let body = search(
        &s,
        "combined",
        &[
            ("search", "rust"),
            ("filter", "views > 5"),
            ("sort", "-views"),
            ("perPage", "1"),
            ("skipTotal", "1"),
        ],
    )
    .await;
    assert_eq!(ids(&body), ["rrrrrrrrrrrrrr2"]);
    assert_eq!(body["totalItems"], -1);

    let body = search(
        &s,
        "combined",
        &[("search", "python"), ("fields", "id,title")],
    )
    .await;
    assert_eq!(
        body["items"][0],
        json!({"id": "rrrrrrrrrrrrrr4", "title": "Python tips"})
    );

    s.create_record(
        "comments",
        json!({"text": "great rust article", "article": "rrrrrrrrrrrrrr1"}),
    )
    .await;
    let body = eventually(
        &s,
        "comments",
        &[("search", "great"), ("expand", "article")],
        |b| b["totalItems"] == 1,
    )
    .await;
    assert_eq!(body["items"][0]["expand"]["article"]["title"], "Rust");
}

#[tokio::test]
async fn results_and_totals_obey_the_list_rule() {
    let s = TestServer::start().await;
    articles(&s, "ruled", json!("published = true")).await;
    load_corpus(&s, "ruled").await;

    let (status, body) = search_as(&s, None, "ruled", &[("search", "rust")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), ["rrrrrrrrrrrrrr1", "rrrrrrrrrrrrrr2"]);
    assert_eq!(body["totalItems"], 2, "the hidden hit is not counted");

    let (_, body) = search_as(&s, None, "ruled", &[("search", "vinegar")]).await;
    assert_eq!(body["totalItems"], 0);
    assert_eq!(body["items"], json!([]));

    let (_, body) = search_as(
        &s,
        None,
        "ruled",
        &[
            ("search", "rust OR cafe OR python"),
            ("filter", "views > 15"),
        ],
    )
    .await;
    let mut got = ids(&body);
    got.sort();
    assert_eq!(got, ["rrrrrrrrrrrrrr2", "rrrrrrrrrrrrrr4"], "{body}");
    assert_eq!(body["totalItems"], 2);

    let body = search(&s, "ruled", &[("search", "rust")]).await;
    assert_eq!(body["totalItems"], 3, "superusers see every hit");

    // A hidden field is searchable by superusers only, and never highlighted for others.
    s.create_collection(json!({"name": "secretive", "listRule": "",
        "fields": [{"name": "title", "type": "text", "searchable": true},
                   {"name": "secret", "type": "text", "searchable": true, "hidden": true}]}))
        .await;
    s.create_record(
        "secretive",
        json!({"title": "public words", "secret": "swordfish"}),
    )
    .await;
    eventually(&s, "secretive", &[("search", "swordfish")], |b| {
        b["totalItems"] == 1
    })
    .await;
    let (_, body) = search_as(&s, None, "secretive", &[("search", "swordfish")]).await;
    assert_eq!(body["totalItems"], 0, "{body}");
    let (status, body) = search_as(&s, None, "secretive", &[("search", "secret:swordfish")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, body) = search_as(
        &s,
        None,
        "secretive",
        &[("search", "public OR swordfish"), ("searchHighlight", "1")],
    )
    .await;
    assert_eq!(
        body["items"][0]["@search"]["highlights"],
        json!({"title": "<mark>public</mark> words"})
    );

    articles(&s, "closed", Value::Null).await;
    let (status, body) = search_as(&s, None, "closed", &[("search", "rust")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn updates_and_deletes_reach_the_index() {
    let s = TestServer::start().await;
    articles(&s, "fresh", json!("")).await;
    let r = s
        .create_record(
            "fresh",
            json!({"title": "Learning Rust", "body": "<p>borrow checker</p>"}),
        )
        .await;
    let id = r["id"].as_str().unwrap().to_owned();
    eventually(&s, "fresh", &[("search", "borrow")], |b| {
        b["totalItems"] == 1
    })
    .await;

    let (status, body) = s
        .call(
            Method::PATCH,
            &format!("/api/collections/fresh/records/{id}"),
            Some(json!({"title": "Learning Elixir"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = eventually(&s, "fresh", &[("search", "elixir")], |b| {
        b["totalItems"] == 1
    })
    .await;
    assert_eq!(ids(&body), vec![id.clone()]);
    let body = search(&s, "fresh", &[("search", "title:rust")]).await;
    assert_eq!(body["totalItems"], 0, "the old title is gone: {body}");

    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/collections/fresh/records/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    eventually(&s, "fresh", &[("search", "borrow")], |b| {
        b["totalItems"] == 0 && b["items"] == json!([])
    })
    .await;
}

#[tokio::test]
async fn highlights_on_request() {
    let s = TestServer::start().await;
    articles(&s, "marked", json!("")).await;
    load_corpus(&s, "marked").await;
    let body = search(
        &s,
        "marked",
        &[
            ("search", "\"written in rust\""),
            ("searchHighlight", "true"),
        ],
    )
    .await;
    let found = &body["items"][0]["@search"];
    assert!(found["score"].as_f64().unwrap() > 0.0, "{body}");
    assert_eq!(
        found["highlights"]["body"], "<mark>Written</mark> <mark>in</mark> <mark>Rust</mark>",
        "{body}"
    );
    assert!(found["highlights"].get("title").is_none(), "{body}");

    let body = search(
        &s,
        "marked",
        &[
            ("search", "cafe"),
            ("searchHighlight", "1"),
            ("fields", "id"),
        ],
    )
    .await;
    assert_eq!(
        body["items"][0]["@search"]["highlights"]["title"],
        "<mark>Café</mark> crème"
    );
}

#[tokio::test]
async fn stemming_is_per_collection() {
    let s = TestServer::start().await;
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections",
            Some(json!({"name": "x", "searchLanguage": "klingon",
                        "fields": [{"name": "t", "type": "text", "searchable": true}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["data"]["searchLanguage"]["code"].is_string(), "{body}");

    let c = s
        .create_collection(json!({"name": "stemmed", "searchLanguage": "english",
            "fields": [{"name": "t", "type": "text", "searchable": true}]}))
        .await;
    assert_eq!(c["searchLanguage"], "english");
    s.create_collection(json!({"name": "unstemmed",
            "fields": [{"name": "t", "type": "text", "searchable": true}]}))
        .await;
    for c in ["stemmed", "unstemmed"] {
        s.create_record(c, json!({"t": "She was running quickly"}))
            .await;
        eventually(&s, c, &[("search", "running")], |b| b["totalItems"] == 1).await;
    }
    assert_eq!(
        search(&s, "stemmed", &[("search", "runs")]).await["totalItems"],
        1
    );
    assert_eq!(
        search(&s, "unstemmed", &[("search", "runs")]).await["totalItems"],
        0
    );
}

#[tokio::test]
async fn schema_changes_reindex_in_the_background() {
    let s = TestServer::start().await;
    let c = s
        .create_collection(json!({"name": "evolving", "listRule": "",
            "fields": [{"name": "a", "type": "text"},
                       {"name": "meta", "type": "json"},
                       {"name": "mail", "type": "email"}]}))
        .await;
    for i in 0..50 {
        s.create_record(
            "evolving",
            json!({"a": format!("walrus number {i}"), "meta": {"k": ["tusk", i]},
                   "mail": format!("w{i}@sea.example.com")}),
        )
        .await;
    }
    let (status, _) = search_as(&s, None, "evolving", &[("search", "walrus")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no searchable fields yet");

    let mut fields = c["fields"].clone();
    for f in fields.as_array_mut().unwrap() {
        if ["a", "meta", "mail"].contains(&f["name"].as_str().unwrap()) {
            f["searchable"] = json!(true);
        }
    }
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/evolving",
            Some(json!({"fields": fields})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fields"][1]["searchable"], true, "{body}");
    eventually(&s, "evolving", &[("search", "walrus")], |b| {
        b["totalItems"] == 50
    })
    .await;
    assert_eq!(
        search(&s, "evolving", &[("search", "meta:tusk")]).await["totalItems"],
        50
    );
    assert_eq!(
        search(&s, "evolving", &[("search", "w7")]).await["totalItems"],
        1
    );

    // A rename reindexes under the new name.
    for f in fields.as_array_mut().unwrap() {
        if f["name"] == "a" {
            f["name"] = json!("label");
        }
    }
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/evolving",
            Some(json!({"fields": fields})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) = search_as(
            &s,
            Some(&s.token),
            "evolving",
            &[("search", "label:walrus")],
        )
        .await;
        if status == StatusCode::OK && body["totalItems"] == 50 {
            break;
        }
        assert!(Instant::now() < deadline, "rename never reindexed: {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let (status, _) = s
        .call(Method::DELETE, "/api/collections/evolving", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
