use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

async fn posts(s: &TestServer) -> Value {
    s.create_collection(json!({
        "name": "posts",
        "fields": [
            {"name": "title", "type": "text", "required": true, "max": 20},
            {"name": "views", "type": "number"},
            {"name": "published", "type": "bool"},
            {"name": "email", "type": "email"},
            {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
            {"name": "created", "type": "autodate", "onCreate": true},
            {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
        ],
        "indexes": ["CREATE INDEX idx_views ON posts (views)", "CREATE UNIQUE INDEX idx_title ON posts (title)"],
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    }))
    .await
}

#[tokio::test]
async fn record_crud_with_coercion_and_modifiers() {
    let s = TestServer::start().await;
    posts(&s).await;
    let r = s.create_record("posts", json!({"id": "abcdefghijklmno", "title": "hello", "views": "12", "published": "true", "unknown": 1})).await;
    assert_eq!(r["id"], "abcdefghijklmno");
    assert_eq!(r["collectionName"], "posts");
    assert_eq!(r["views"], 12);
    assert_eq!(r["published"], true);
    assert_eq!(r["email"], "");
    assert_eq!(r["tags"], json!([]));
    assert!(r.get("unknown").is_none());
    let created = r["created"].as_str().unwrap();
    assert_eq!(created.len(), "2024-01-01 00:00:00.000Z".len());
    assert!(created.ends_with('Z'));

    let path = "/api/collections/posts/records/abcdefghijklmno";
    let (status, r) = s
        .call(
            Method::PATCH,
            path,
            Some(json!({"views+": 5, "tags+": ["a", "b"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["views"], 17);
    assert_eq!(r["tags"], json!(["a", "b"]));
    let (_, r) = s
        .call(
            Method::PATCH,
            path,
            Some(json!({"views-": 2, "tags-": "a", "+tags": "c"})),
        )
        .await;
    assert_eq!(r["views"], 15);
    assert_eq!(r["tags"], json!(["c", "b"]));

    let (status, got) = s.call_as(None, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["views"], 15);
    let (status, _) = s.call(Method::DELETE, path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.call(Method::GET, path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn validation_errors_are_reported_all_at_once() {
    let s = TestServer::start().await;
    posts(&s).await;
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections/posts/records",
            Some(json!({"title": "x".repeat(30), "email": "not-an-email", "tags": ["zzz"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["data"]["title"]["code"],
        "validation_max_text_constraint"
    );
    assert_eq!(body["data"]["email"]["code"], "validation_is_email");
    assert!(body["data"]["tags"]["code"].is_string());
    s.create_record("posts", json!({"title": "same"})).await;
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections/posts/records",
            Some(json!({"title": "same"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["data"]["title"]["code"], "validation_not_unique");
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections/posts/records",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["data"]["title"]["code"], "validation_required");
    let (status, _) = s
        .call(
            Method::POST,
            "/api/collections/posts/records",
            Some(json!({"id": "BAD", "title": "q"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lists_filter_sort_page_and_count() {
    let s = TestServer::start().await;
    posts(&s).await;
    for i in 0..25 {
        s.create_record(
            "posts",
            json!({"title": format!("post {i:02}"), "views": i * 10, "published": i % 2 == 0}),
        )
        .await;
    }
    let base = "/api/collections/posts/records";
    let (status, body) = s
        .call_as(
            None,
            Method::GET,
            &format!("{base}?perPage=10&page=2&sort=-views"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["page"], 2);
    assert_eq!(body["perPage"], 10);
    assert_eq!(body["totalItems"], 25);
    assert_eq!(body["totalPages"], 3);
    let views: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["views"].as_i64().unwrap())
        .collect();
    assert_eq!(views, (5..15).rev().map(|i| i * 10).collect::<Vec<_>>());

    let filter = urlencode("(views>100 && published=true) || title='post 01'");
    let (_, body) = s
        .call(
            Method::GET,
            &format!("{base}?filter={filter}&sort=views&perPage=100"),
            None,
        )
        .await;
    let titles: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["post 01", "post 12", "post 14", "post 16", "post 18", "post 20", "post 22", "post 24"]
    );
    assert_eq!(body["totalItems"], 8);

    let (_, body) = s
        .call(
            Method::GET,
            &format!("{base}?skipTotal=1&perPage=5000"),
            None,
        )
        .await;
    assert_eq!(body["totalItems"], -1);
    assert_eq!(body["totalPages"], -1);
    assert_eq!(body["perPage"], 1000);
    assert_eq!(body["items"].as_array().unwrap().len(), 25);

    let (status, body) = s
        .call(
            Method::GET,
            &format!("{base}?filter={}", urlencode("views >> 1")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = s
        .call(
            Method::GET,
            &format!("{base}?filter={}", urlencode("nope = 1")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s
        .call(Method::GET, &format!("{base}?sort=nope"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, body) = s
        .call(
            Method::GET,
            &format!("{base}?perPage=1&sort=views&fields=title,views"),
            None,
        )
        .await;
    assert_eq!(body["items"][0], json!({"title": "post 00", "views": 0}));
}

#[tokio::test]
async fn expand_forward_nested_and_back_relations() {
    let s = TestServer::start().await;
    let users = s.create_collection(json!({"name": "people", "fields": [{"name": "name", "type": "text"}], "listRule": "", "viewRule": ""})).await;
    let posts = s
        .create_collection(json!({
            "name": "articles",
            "fields": [{"name": "title", "type": "text"}, {"name": "author", "type": "relation", "collectionId": users["id"], "maxSelect": 1}],
            "listRule": "", "viewRule": "",
        }))
        .await;
    s.create_collection(json!({
        "name": "comments",
        "fields": [{"name": "text", "type": "text"}, {"name": "article", "type": "relation", "collectionId": posts["id"], "maxSelect": 1, "cascadeDelete": true}],
        "listRule": "", "viewRule": "",
    }))
    .await;
    let ann = s.create_record("people", json!({"name": "Ann"})).await;
    let a = s
        .create_record("articles", json!({"title": "A", "author": ann["id"]}))
        .await;
    s.create_record("comments", json!({"text": "first", "article": a["id"]}))
        .await;
    s.create_record("comments", json!({"text": "second", "article": a["id"]}))
        .await;

    let path = format!(
        "/api/collections/articles/records/{}?expand=author,comments_via_article.article.author",
        a["id"].as_str().unwrap()
    );
    let (status, body) = s.call_as(None, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expand"]["author"]["name"], "Ann");
    let comments = body["expand"]["comments_via_article"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(
        comments[0]["expand"]["article"]["expand"]["author"]["name"],
        "Ann"
    );

    let filter = urlencode("author.name = 'Ann' && comments_via_article.text ?= 'second'");
    let (_, body) = s
        .call(
            Method::GET,
            &format!("/api/collections/articles/records?filter={filter}"),
            None,
        )
        .await;
    assert_eq!(body["totalItems"], 1, "{body}");

    // Totals that depend on another collection follow writes to it (regression: the
    // list-total cache once keyed only on the listed collection).
    let by_author = format!(
        "/api/collections/articles/records?filter={}",
        urlencode("author.name = 'Ann'")
    );
    let (_, body) = s.call(Method::GET, &by_author, None).await;
    assert_eq!(body["totalItems"], 1, "{body}");
    let ann_path = format!(
        "/api/collections/people/records/{}",
        ann["id"].as_str().unwrap()
    );
    let (status, _) = s
        .call(Method::PATCH, &ann_path, Some(json!({"name": "Bea"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = s.call(Method::GET, &by_author, None).await;
    assert_eq!(body["totalItems"], 0, "{body}");

    let (status, _) = s
        .call(
            Method::DELETE,
            &format!(
                "/api/collections/articles/records/{}",
                a["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = s
        .call(Method::GET, "/api/collections/comments/records", None)
        .await;
    assert_eq!(
        body["totalItems"], 0,
        "cascade delete removes comments: {body}"
    );
}

#[tokio::test]
async fn null_rules_are_superuser_only() {
    let s = TestServer::start().await;
    s.create_collection(json!({"name": "secrets", "fields": [{"name": "v", "type": "text"}]}))
        .await;
    let (status, body) = s
        .call_as(None, Method::GET, "/api/collections/secrets/records", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["message"], "Only superusers can perform this action.");
    let (status, _) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/secrets/records",
            Some(json!({"v": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .call(Method::GET, "/api/collections/secrets/records", None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let s = TestServer::start().await;
    posts(&s).await;
    let resp = s
        .client
        .post(format!("{}/api/collections/posts/records", s.url))
        .header("Authorization", &s.token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 400);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Creates race for the same ids, in a collection whose creates commit from the async
/// worker (no relations) and one whose creates go to the blocking pool (a relation
/// field): either way each id has exactly one winner, the others get the same 400, and
/// every acknowledged record reads back.
#[tokio::test]
async fn racing_creates_of_one_id_have_one_winner_on_either_path() {
    let s = TestServer::start().await;
    let plain = s
        .create_collection(json!({"name": "plain", "fields": [{"name": "n", "type": "number"}]}))
        .await;
    s.create_collection(json!({
        "name": "linked",
        "fields": [
            {"name": "n", "type": "number"},
            {"name": "to", "type": "relation", "collectionId": plain["id"], "maxSelect": 1},
        ],
    }))
    .await;
    for collection in ["plain", "linked"] {
        let path = format!("/api/collections/{collection}/records");
        let calls = (0..48).map(|n| {
            let body = json!({"id": format!("racer{:010}", n % 6), "n": n});
            s.call(Method::POST, &path, Some(body))
        });
        let replies = futures_util::future::join_all(calls).await;
        let mut winners = std::collections::BTreeMap::new();
        for (status, body) in replies {
            if status == StatusCode::OK {
                let id = body["id"].as_str().unwrap().to_owned();
                assert!(winners.insert(id, body["n"].clone()).is_none(), "{body}");
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
                assert_eq!(
                    body["data"]["id"]["code"], "validation_not_unique",
                    "{body}"
                );
            }
        }
        assert_eq!(winners.len(), 6, "{collection}: {winners:?}");
        for (id, n) in winners {
            let (status, got) = s.call(Method::GET, &format!("{path}/{id}"), None).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(got["n"], n, "{collection}/{id}");
        }
    }
}

/// Creates queued from the async worker while the collection changes under them (a
/// field and an index added): every acknowledged record is stored, and the new index
/// holds each of them (a list filtered and sorted through it finds them all).
#[tokio::test]
async fn creates_racing_a_schema_change_all_land_in_the_new_index() {
    let s = TestServer::start().await;
    let c = s
        .create_collection(json!({"name": "racing", "fields": [{"name": "n", "type": "number"}]}))
        .await;
    let path = "/api/collections/racing/records";
    let creates = (0..300).map(|n| s.call(Method::POST, path, Some(json!({"n": n}))));
    let change = async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let mut fields = c["fields"].as_array().unwrap().clone();
        fields.push(json!({"name": "tag", "type": "text"}));
        s.call(
            Method::PATCH,
            &format!("/api/collections/{}", c["id"].as_str().unwrap()),
            Some(json!({"fields": fields, "indexes": ["CREATE INDEX idx_racing_n ON racing (n)"]})),
        )
        .await
    };
    let (replies, (status, body)) = tokio::join!(futures_util::future::join_all(creates), change);
    assert_eq!(status, StatusCode::OK, "{body}");
    for (status, body) in &replies {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let mut acknowledged: Vec<i64> = replies
        .iter()
        .map(|(_, body)| body["n"].as_i64().unwrap())
        .collect();
    acknowledged.sort_unstable();
    let (status, page) = s
        .call(
            Method::GET,
            &format!("{path}?filter=n%3E%3D0&sort=n&perPage=1000"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let listed: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["n"].as_i64().unwrap())
        .collect();
    let missing: Vec<&i64> = acknowledged
        .iter()
        .filter(|n| !listed.contains(n))
        .collect();
    assert!(missing.is_empty(), "not in the new index: {missing:?}");
    assert_eq!(listed, acknowledged);
    assert_eq!(listed.len(), 300);
}

/// List totals are cached until the next write; a total that depends on the caller
/// (`@request.*`) or on the clock (`@now`) must not be reused for another caller or
/// once time has moved on.
#[tokio::test]
async fn cached_list_totals_follow_the_caller_and_the_clock() {
    let s = TestServer::start().await;
    s.create_collection(json!({
        "name": "members", "type": "auth", "fields": [],
        "createRule": "", "listRule": "", "viewRule": "",
    }))
    .await;
    s.create_collection(json!({
        "name": "notes", "listRule": "", "viewRule": "",
        "fields": [{"name": "owner", "type": "text"}, {"name": "due", "type": "date"}],
    }))
    .await;
    let (a, a_token) = s.sign_up("members", "a@example.com").await;
    let (b, b_token) = s.sign_up("members", "b@example.com").await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    for owner in [&a, &a, &a, &b] {
        s.create_record("notes", json!({"owner": owner})).await;
    }
    let total = |token: String, query: &str| {
        let (s, query) = (&s, query.to_owned());
        async move {
            let path = format!("/api/collections/notes/records?{query}");
            let (status, body) = s.call_as(Some(&token), Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["totalItems"].as_i64().unwrap()
        }
    };
    // Only superusers may filter by @request.*: two of them, each owning notes.
    let (status, other) = s
        .call(
            Method::POST,
            "/api/collections/_superusers/records",
            Some(json!({"email": "root2@example.com", "password": "password123", "passwordConfirm": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    let (_, login) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/_superusers/auth-with-password",
            Some(json!({"identity": "root2@example.com", "password": "password123"})),
        )
        .await;
    let other_token = login["token"].as_str().unwrap().to_owned();
    s.create_record("notes", json!({"owner": other["id"]}))
        .await;
    let (_, me) = s
        .call(
            Method::GET,
            "/api/collections/_superusers/records?filter=email!%3D%22root2%40example.com%22",
            None,
        )
        .await;
    let me = me["items"][0]["id"].as_str().unwrap().to_owned();
    s.create_record("notes", json!({"owner": me})).await;
    s.create_record("notes", json!({"owner": me})).await;
    let mine = "filter=owner%3D%40request.auth.id";
    assert_eq!(total(s.token.clone(), mine).await, 2);
    assert_eq!(total(other_token.clone(), mine).await, 1);
    assert_eq!(total(s.token.clone(), mine).await, 2);
    // Members are not asked: their own filter by owner is a plain one.
    assert_eq!(
        total(a_token, &format!("filter=owner%3D%22{a}%22")).await,
        3
    );

    // A note due in a moment: counted as upcoming now, and not once it is past.
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500))
        .format("%Y-%m-%d %H:%M:%S%.3fZ")
        .to_string();
    s.create_record("notes", json!({"owner": a, "due": soon}))
        .await;
    let upcoming = "filter=due%3E%40now";
    assert_eq!(total(b_token.clone(), upcoming).await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    assert_eq!(total(b_token, upcoming).await, 0);
}
