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

/// One request a receiver got.
struct Received {
    headers: std::collections::HashMap<String, String>,
    body: Vec<u8>,
}

/// A webhook receiver on loopback: answers 500 to the first request, 200 after.
async fn receiver() -> (String, std::sync::Arc<parking_lot::Mutex<Vec<Received>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(parking_lot::Mutex::new(Vec::<Received>::new()));
    let log = got.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, length) = loop {
                let n = conn.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (end + 4, length);
                }
            };
            if head_end == 0 {
                continue;
            }
            while buf.len() < head_end + length {
                let n = conn.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let headers = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                .collect();
            let first = {
                let mut log = log.lock();
                log.push(Received {
                    headers,
                    body: buf[head_end..].to_vec(),
                });
                log.len() == 1
            };
            let status = if first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let reply =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = conn.write_all(reply.as_bytes()).await;
            let _ = conn.shutdown().await;
        }
    });
    (url, got)
}

#[tokio::test]
async fn webhooks_deliver_signed_events_and_retry_after_a_failure() {
    const SECRET: &str = "a-test-secret-of-some-length";
    let (url, got) = receiver().await;
    let s = TestServer::start_with(|c| {
        c.plugins = vec!["webhooks".into()];
        c.plugin_settings.insert(
            "webhooks".into(),
            json!({
                "secret": SECRET,
                "backoff_ms": 50,
                "max_attempts": 3,
                "targets": [{"url": url, "collections": ["notes"], "events": ["create", "update"]}],
            }),
        );
    })
    .await;
    s.create_collection(json!({
        "name": "notes",
        "fields": [{"name": "title", "type": "text"}],
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    }))
    .await;
    let note = s.create_record("notes", json!({"title": "hello"})).await;
    let id = note["id"].as_str().unwrap();

    let deadline = Instant::now() + Duration::from_secs(5);
    while got.lock().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the failed delivery was not retried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = "/api/collections/_webhookDeliveries/records";
    let delivered = loop {
        let items = wait_items(&s, url, 1).await;
        if items[0]["status"] == "delivered" {
            break items[0].clone();
        }
        assert!(Instant::now() < deadline, "{items:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(delivered["attempts"], 2);
    assert_eq!(delivered["responseStatus"], 200);
    assert_eq!(delivered["recordId"], note["id"]);
    {
        let got = got.lock();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for r in got.iter() {
            let ts: u64 = r.headers["x-basalt-timestamp"].parse().unwrap();
            let sig = &r.headers["x-basalt-signature"];
            assert!(
                basalt_plugin_webhooks::verify(SECRET, ts, &r.body, sig, now, 60),
                "a valid HMAC over timestamp.body"
            );
            assert!(!basalt_plugin_webhooks::verify(
                "another-secret-xyz",
                ts,
                &r.body,
                sig,
                now,
                60
            ));
            assert_eq!(r.headers["x-basalt-event"], "create");
            assert_eq!(
                r.headers["x-basalt-delivery"],
                delivered["id"].as_str().unwrap()
            );
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["record"]["title"], "hello");
            assert_eq!(body["collection"], "notes");
        }
    }

    // an update carries the old record; a delete is filtered out by `events`
    let path = format!("/api/collections/notes/records/{id}");
    let (status, _) = s
        .call(Method::PATCH, &path, Some(json!({"title": "bye"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.lock().len() < 3 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let update: Value = serde_json::from_slice(&got.lock()[2].body).unwrap();
    assert_eq!(update["event"], "update");
    assert_eq!(update["oldRecord"]["title"], "hello");
    assert_eq!(update["record"]["title"], "bye");

    // the delivery log through the plugin's route: superusers only, filterable
    let (status, body) = s
        .call(
            Method::GET,
            "/api/x/webhooks/deliveries?status=delivered",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body["items"].as_array().unwrap().is_empty());
    let (status, body) = s
        .call(Method::GET, "/api/x/webhooks/deliveries?status=bogus", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = s
        .call_as(None, Method::GET, "/api/x/webhooks/deliveries", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(got.lock().len(), 3, "the delete was not sent");
}

#[tokio::test]
async fn webhook_retries_pending_at_shutdown_resume_on_the_next_start() {
    let (url, got) = receiver().await;
    let settings = json!({
        "secret": "a-test-secret-of-some-length",
        // The retry is due long after the shutdown below.
        "backoff_ms": 600000,
        "max_attempts": 3,
        "targets": [{"url": url, "collections": ["notes"], "events": ["create"]}],
    });
    let start = |dir: Option<std::path::PathBuf>| {
        let settings = settings.clone();
        TestServer::start_with(move |c| {
            if let Some(dir) = dir {
                c.dir = dir;
            }
            c.plugins = vec!["webhooks".into()];
            c.plugin_settings.insert("webhooks".into(), settings);
        })
    };
    let s = start(None).await;
    s.create_collection(json!({
        "name": "notes", "fields": [{"name": "title", "type": "text"}], "createRule": "",
    }))
    .await;
    s.create_record("notes", json!({"title": "hello"})).await;
    let url = "/api/collections/_webhookDeliveries/records";
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let items = wait_items(&s, url, 1).await;
        if items[0]["status"] == "retrying" {
            break;
        }
        assert!(Instant::now() < deadline, "{items:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let dir = s.shutdown().await;

    let s = start(Some(dir.path().to_path_buf())).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let delivered = loop {
        let items = wait_items(&s, url, 1).await;
        if items[0]["status"] == "delivered" {
            break items[0].clone();
        }
        assert!(Instant::now() < deadline, "not resumed: {items:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(delivered["attempts"], 2);
    assert_eq!(got.lock().len(), 2, "one failed attempt, one resumed");
    let body: Value = serde_json::from_slice(&got.lock()[1].body).unwrap();
    assert_eq!(body["record"]["title"], "hello");
    assert_eq!(body["deliveryId"], delivered["id"]);
}

#[tokio::test]
async fn writes_right_before_a_shutdown_still_reach_the_audit_log() {
    let start = |dir: Option<std::path::PathBuf>| {
        TestServer::start_with(move |c| {
            if let Some(dir) = dir {
                c.dir = dir;
            }
            c.plugins = vec!["audit-log".into()];
        })
    };
    let s = start(None).await;
    s.create_collection(json!({
        "name": "notes", "fields": [{"name": "title", "type": "text"}], "createRule": "",
    }))
    .await;
    // Concurrent writes, then at once a shutdown: the after-hook thread may still be
    // behind; it must hand every acknowledged write to the plugin before the store
    // closes.
    let writes = (0..40).map(|i| s.create_record("notes", json!({"title": format!("n{i}")})));
    futures_util::future::join_all(writes).await;
    let dir = s.shutdown().await;

    let s = start(Some(dir.path().to_path_buf())).await;
    let filter = urlencoding::encode("collection = \"notes\" && action = \"create\"");
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/api/collections/_auditLog/records?filter={filter}&perPage=100"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalItems"], 40, "{body}");
}
