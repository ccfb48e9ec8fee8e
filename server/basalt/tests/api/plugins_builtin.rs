//! The first-party plugins on the real server: `audit-log` and `webhooks`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

/// Polls a list URL (as superuser) until it has `n` items, a few seconds at most.
async fn wait_items(s: &TestServer, url: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = s.call(Method::GET, url, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= n {
            return items;
        }
        assert!(Instant::now() < deadline, "{url}: {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn the_audit_log_records_writes_and_logins_and_cannot_be_changed() {
    let s = TestServer::start_with(|c| c.plugins = vec!["audit-log".into()]).await;
    s.create_collection(json!({
        "name": "notes",
        "fields": [{"name": "title", "type": "text"}],
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    }))
    .await;
    s.create_collection(json!({"name": "users", "type": "auth", "createRule": ""}))
        .await;
    let note = s.create_record("notes", json!({"title": "one"})).await;
    let path = format!(
        "/api/collections/notes/records/{}",
        note["id"].as_str().unwrap()
    );
    let (status, _) = s
        .call(Method::PATCH, &path, Some(json!({"title": "two"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let filter = urlencoding::encode("collection = \"notes\"");
    let url = format!("/api/collections/_auditLog/records?filter={filter}&sort=seq");
    let items = wait_items(&s, &url, 3).await;
    let actions: Vec<&str> = items
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
    for item in &items {
        assert_eq!(item["recordId"], note["id"]);
        assert_eq!(item["actorType"], "superuser");
        assert_eq!(item["actorCollection"], "_superusers");
        assert!(!item["created"].as_str().unwrap().is_empty());
    }
    assert_eq!(items[0]["before"], Value::Null);
    assert_eq!(items[0]["after"]["title"], "one");
    assert_eq!(items[1]["before"]["title"], "one");
    assert_eq!(items[1]["after"]["title"], "two");
    assert_eq!(items[2]["before"]["title"], "two");
    assert_eq!(items[2]["after"], Value::Null);

    // a signup (by a guest) and a login
    let (status, user) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/records",
            Some(json!({"email": "al@example.com", "password": "password123", "passwordConfirm": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let (status, auth) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/auth-with-password",
            Some(json!({"identity": "al@example.com", "password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{auth}");
    let filter = urlencoding::encode("collection = \"users\"");
    let url = format!("/api/collections/_auditLog/records?filter={filter}&sort=seq,created");
    let items = wait_items(&s, &url, 2).await;
    let signup = items.iter().find(|i| i["action"] == "create").unwrap();
    assert_eq!(signup["actorType"], "guest");
    let login = items.iter().find(|i| i["action"] == "login").unwrap();
    assert_eq!(login["actorId"], user["id"]);
    assert_eq!(login["method"], "password");

    // append-only: not even a superuser may change, delete or forge entries
    let entry = format!(
        "/api/collections/_auditLog/records/{}",
        login["id"].as_str().unwrap()
    );
    let (status, body) = s
        .call(Method::PATCH, &entry, Some(json!({"actorId": "x"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s.call(Method::DELETE, &entry, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections/_auditLog/records",
            Some(json!({"action": "create"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, body) = s.call(Method::GET, &entry, None).await;
    assert_eq!(body["actorId"], user["id"], "unchanged");
    // and only superusers read it
    let token = auth["token"].as_str().unwrap();
    let (status, _) = s
        .call_as(
            Some(token),
            Method::GET,
            "/api/collections/_auditLog/records",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
