//! The authorization matrix: principals × collections × actions × channels, through
//! collection rules and casbin roles/policies, asserting allow/deny for every cell.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

struct World {
    s: TestServer,
    alice: String,
    bob: String,
    alice_id: String,
    bob_id: String,
    p1: String,
    p2: String,
    s1: String,
    s2: String,
    bob_link: String,
}

async fn signup(s: &TestServer, email: &str, name: &str) -> (String, String) {
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/records",
            Some(json!({"email": email, "name": name, "password": "password123", "passwordConfirm": "password123"})),
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

async fn world() -> World {
    let s = TestServer::start().await;
    s.create_collection(json!({
        "name": "users", "type": "auth",
        "fields": [{"name": "name", "type": "text"}],
        "createRule": "",
        "listRule": "id = @request.auth.id",
        "viewRule": "id = @request.auth.id",
        "updateRule": "id = @request.auth.id",
        "deleteRule": null,
    }))
    .await;
    let (alice_id, alice) = signup(&s, "alice@example.com", "Alice").await;
    let (bob_id, bob) = signup(&s, "bob@example.com", "Bob").await;
    let users = s.call(Method::GET, "/api/collections/users", None).await.1;
    s.create_collection(json!({
        "name": "posts",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "published", "type": "bool"},
            {"name": "owner", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
        ],
        "listRule": "published = true || owner = @request.auth.id",
        "viewRule": "published = true || owner = @request.auth.id",
        "createRule": "@request.auth.id != '' && owner = @request.auth.id",
        "updateRule": "owner = @request.auth.id",
        "deleteRule": "owner = @request.auth.id",
    }))
    .await;
    s.create_collection(json!({
        "name": "secrets",
        "fields": [{"name": "level", "type": "number"}],
    }))
    .await;
    let p1 = s
        .create_record(
            "posts",
            json!({"title": "public", "published": true, "owner": alice_id}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p2 = s
        .create_record(
            "posts",
            json!({"title": "draft", "published": false, "owner": alice_id}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s1 = s.create_record("secrets", json!({"level": 3})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s2 = s.create_record("secrets", json!({"level": 7})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (role, action, condition) in [
        ("auditor", "list", ""),
        ("auditor", "view", ""),
        ("editor", "update", "level < 5"),
    ] {
        let (status, body) = s
            .call(
                Method::POST,
                "/api/policies",
                Some(json!({"role": role, "collection": "secrets", "action": action, "condition": condition})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, link) = s
        .call(
            Method::POST,
            "/api/roles/links",
            Some(json!({"role": "editor", "collection": "users", "record": bob_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let (status, body) = s
        .call(
            Method::POST,
            "/api/roles/links",
            Some(json!({"role": "auditor", "subject": "editor"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    World {
        alice,
        bob,
        alice_id,
        bob_id,
        p1,
        p2,
        s1,
        s2,
        bob_link: link["id"].as_str().unwrap().to_owned(),
        s,
    }
}

/// One cell: who does what, the expected status, and for lists the expected count.
async fn cell(
    w: &World,
    who: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    want: u16,
    count: Option<usize>,
) {
    let token = match who {
        "guest" => None,
        "alice" => Some(w.alice.as_str()),
        "bob" => Some(w.bob.as_str()),
        "su" => Some(w.s.token.as_str()),
        _ => unreachable!(),
    };
    let (status, out) = w.s.call_as(token, method.clone(), path, body).await;
    assert_eq!(status.as_u16(), want, "{who} {method} {path}: {out}");
    if let Some(n) = count {
        let items = out["items"].as_array().unwrap();
        assert_eq!(items.len(), n, "{who} {method} {path}: {out}");
        assert_eq!(
            out["totalItems"], n,
            "{who} {method} {path}: totals count only visible records"
        );
    }
}

#[tokio::test]
async fn rules_and_policies_gate_every_rest_action() {
    let w = world().await;
    let posts = "/api/collections/posts/records";
    let secrets = "/api/collections/secrets/records";
    let users = "/api/collections/users/records";
    let (p1, p2, s1, s2) = (&w.p1, &w.p2, &w.s1, &w.s2);
    let post = |o: &str| Some(json!({"title": "new", "owner": o}));
    let edit = || Some(json!({"title": "edited"}));

    // posts: rule-based (everyone) with owner conditions
    for (who, n) in [("guest", 1), ("alice", 2), ("bob", 1), ("su", 2)] {
        cell(&w, who, Method::GET, posts, None, 200, Some(n)).await;
    }
    for (who, want) in [("guest", 404), ("alice", 200), ("bob", 404), ("su", 200)] {
        cell(
            &w,
            who,
            Method::GET,
            &format!("{posts}/{p2}"),
            None,
            want,
            None,
        )
        .await;
    }
    for (who, want) in [("guest", 400), ("alice", 200), ("bob", 400), ("su", 200)] {
        cell(&w, who, Method::POST, posts, post(&w.alice_id), want, None).await;
    }
    for (who, want) in [("guest", 404), ("alice", 200), ("bob", 404), ("su", 200)] {
        cell(
            &w,
            who,
            Method::PATCH,
            &format!("{posts}/{p1}"),
            edit(),
            want,
            None,
        )
        .await;
    }
    for (who, want) in [("guest", 404), ("bob", 404), ("alice", 204)] {
        cell(
            &w,
            who,
            Method::DELETE,
            &format!("{posts}/{p2}"),
            None,
            want,
            None,
        )
        .await;
    }

    // secrets: superusers only by rule, opened to roles by policies
    for (who, want, n) in [
        ("guest", 403, None),
        ("alice", 403, None),
        ("bob", 200, Some(2)),
        ("su", 200, Some(2)),
    ] {
        cell(&w, who, Method::GET, secrets, None, want, n).await;
    }
    for (who, want) in [("guest", 403), ("alice", 403), ("bob", 200)] {
        cell(
            &w,
            who,
            Method::GET,
            &format!("{secrets}/{s1}"),
            None,
            want,
            None,
        )
        .await;
    }
    let level = || Some(json!({"level": 4}));
    for (who, path, want) in [
        ("guest", s1, 403),
        ("alice", s1, 403),
        ("bob", s1, 200),
        ("bob", s2, 404),
        ("su", s2, 200),
    ] {
        cell(
            &w,
            who,
            Method::PATCH,
            &format!("{secrets}/{path}"),
            level(),
            want,
            None,
        )
        .await;
    }
    cell(&w, "bob", Method::POST, secrets, level(), 403, None).await;
    cell(
        &w,
        "bob",
        Method::DELETE,
        &format!("{secrets}/{s1}"),
        None,
        403,
        None,
    )
    .await;

    // users: everyone sees only themselves
    for (who, n) in [("guest", 0), ("alice", 1), ("bob", 1), ("su", 2)] {
        cell(&w, who, Method::GET, users, None, 200, Some(n)).await;
    }
    let bob_path = format!("{users}/{}", w.bob_id);
    cell(&w, "alice", Method::GET, &bob_path, None, 404, None).await;
    cell(
        &w,
        "alice",
        Method::PATCH,
        &bob_path,
        Some(json!({"name": "x"})),
        404,
        None,
    )
    .await;
    cell(
        &w,
        "bob",
        Method::PATCH,
        &bob_path,
        Some(json!({"name": "Bobby"})),
        200,
        None,
    )
    .await;
    cell(&w, "bob", Method::DELETE, &bob_path, None, 403, None).await;
    w.s.shutdown().await;
}

#[tokio::test]
async fn expand_and_relation_filters_pass_the_same_gate() {
    let w = world().await;
    let p1 = format!("/api/collections/posts/records/{}?expand=owner", w.p1);
    // expand: the owner is shown only to callers who may view that user
    for (who, shown) in [
        ("guest", false),
        ("bob", false),
        ("alice", true),
        ("su", true),
    ] {
        let token = [("alice", &w.alice), ("bob", &w.bob), ("su", &w.s.token)]
            .iter()
            .find(|(n, _)| *n == who)
            .map(|(_, t)| t.as_str());
        let (status, body) = w.s.call_as(token, Method::GET, &p1, None).await;
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
        assert_eq!(body["expand"]["owner"].is_object(), shown, "{who}: {body}");
    }
    // a filter through the relation only sees users the caller may list
    let path = "/api/collections/posts/records?filter=owner.name%3D%22Alice%22";
    for (who, n) in [("guest", 0), ("bob", 0), ("alice", 2), ("su", 2)] {
        cell(&w, who, Method::GET, path, None, 200, Some(n)).await;
    }
    w.s.shutdown().await;
}

#[tokio::test]
async fn policy_changes_apply_to_the_next_request() {
    let w = world().await;
    let secrets = "/api/collections/secrets/records";
    cell(&w, "bob", Method::GET, secrets, None, 200, Some(2)).await;
    let (status, _) =
        w.s.call(
            Method::DELETE,
            &format!("/api/roles/links/{}", w.bob_link),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    cell(&w, "bob", Method::GET, secrets, None, 403, None).await;

    // a policy for every signed-in user, with a condition pushed into the list
    let (status, policy) = w
        .s
        .call(
            Method::POST,
            "/api/policies",
            Some(json!({"role": "authenticated", "collection": "secrets", "action": "list", "condition": "level > 5"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    cell(&w, "alice", Method::GET, secrets, None, 200, Some(1)).await;
    cell(&w, "guest", Method::GET, secrets, None, 403, None).await;
    let (status, explain) =
        w.s.call(Method::GET, "/api/policies/explain/secrets", None)
            .await;
    assert_eq!(status, StatusCode::OK);
    let roles: Vec<&str> = explain["actions"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["auditor", "authenticated"], "{explain}");
    let path = format!("/api/policies/{}", policy["id"].as_str().unwrap());
    assert_eq!(
        w.s.call(Method::DELETE, &path, None).await.0,
        StatusCode::NO_CONTENT
    );
    cell(&w, "alice", Method::GET, secrets, None, 403, None).await;
    w.s.shutdown().await;
}

#[tokio::test]
async fn policy_api_validates_and_is_superuser_only() {
    let w = world().await;
    let (status, body) = w
        .s
        .call(
            Method::POST,
            "/api/policies",
            Some(json!({"role": "x", "collection": "secrets", "action": "list", "condition": "nope ="})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["data"]["condition"]["code"], "validation_invalid_rule",
        "{body}"
    );
    let (status, body) =
        w.s.call(
            Method::POST,
            "/api/policies",
            Some(json!({"role": "bad role", "collection": "missing", "action": "fly"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for key in ["role", "collection", "action"] {
        assert!(body["data"][key]["code"].is_string(), "{key}: {body}");
    }
    for system in ["_superusers", "_otps", "_policies", "_roles"] {
        let (status, body) =
            w.s.call(
                Method::POST,
                "/api/policies",
                Some(json!({"role": "x", "collection": system, "action": "list"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{system}: {body}");
    }
    // a role that would inherit from itself
    let (status, body) =
        w.s.call(
            Method::POST,
            "/api/roles/links",
            Some(json!({"role": "editor", "subject": "auditor"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["data"]["role"]["code"], "validation_role_cycle",
        "{body}"
    );
    for path in ["/api/policies", "/api/roles", "/api/roles/links"] {
        let (status, _) = w.s.call_as(Some(&w.bob), Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _) =
        w.s.call(
            Method::POST,
            "/api/collections/_policies/records",
            Some(json!({"role": "x", "collection": "secrets", "action": "list"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "policy records are written only through /api/policies"
    );
    let (status, roles) =
        w.s.call(
            Method::GET,
            &format!("/api/roles/records/users/{}", w.bob_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        roles["roles"],
        json!(["auditor", "authenticated", "editor", "everyone", "users"])
    );
    let (_, all) = w.s.call(Method::GET, "/api/roles", None).await;
    let editor = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "editor")
        .unwrap();
    assert_eq!(editor["parents"], json!(["auditor"]));
    assert_eq!(editor["members"], 1);
    w.s.shutdown().await;
}

#[tokio::test]
async fn search_results_pass_the_same_gate() {
    let w = world().await;
    w.s.create_collection(json!({
        "name": "memos",
        "fields": [{"name": "body", "type": "text", "searchable": true}, {"name": "owner", "type": "text"}],
        "listRule": "owner = @request.auth.id",
    }))
    .await;
    for (owner, body) in [
        (&w.alice_id, "granite quarry"),
        (&w.alice_id, "granite slab"),
        (&w.bob_id, "granite dust"),
    ] {
        w.s.create_record("memos", json!({"owner": owner, "body": body}))
            .await;
    }
    let (status, body) = w
        .s
        .call(
            Method::POST,
            "/api/policies",
            Some(json!({"role": "auditor", "collection": "memos", "action": "list", "condition": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let path = "/api/collections/memos/records?search=granite";
    // the index follows the change log; wait until every record is searchable
    let mut seen = 0;
    for _ in 0..100 {
        seen = w.s.call(Method::GET, path, None).await.1["totalItems"]
            .as_i64()
            .unwrap_or(0);
        if seen == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 3, "records never became searchable");
    // alice sees her own; bob is an auditor (editor inherits it) and sees all
    for (who, n) in [("guest", 0), ("alice", 2), ("bob", 3), ("su", 3)] {
        cell(&w, who, Method::GET, path, None, 200, Some(n)).await;
    }
    w.s.shutdown().await;
}

#[tokio::test]
async fn a_deleted_user_takes_its_role_assignments_along() {
    let w = world().await;
    let user = format!("/api/collections/users/records/{}", w.bob_id);
    let (status, _) = w.s.call(Method::DELETE, &user, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, links) =
        w.s.call(
            Method::GET,
            &format!("/api/roles/links/{}", w.bob_link),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{links}");

    // a new account that happens to get the same id starts without bob's roles
    let (status, body) =
        w.s.call(
            Method::POST,
            "/api/collections/users/records",
            Some(json!({"id": w.bob_id, "email": "bob2@example.com", "password": "password123", "passwordConfirm": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, roles) =
        w.s.call(
            Method::GET,
            &format!("/api/roles/records/users/{}", w.bob_id),
            None,
        )
        .await;
    assert_eq!(
        roles["roles"],
        json!(["authenticated", "everyone", "users"])
    );
    w.s.shutdown().await;
}
