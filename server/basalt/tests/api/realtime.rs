//! Realtime (SSE): the PocketBase protocol, per-subscriber authorization of every
//! event, subscription options, auth changes and slow consumers.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

/// One client's event stream, read as raw SSE.
struct Sse {
    resp: reqwest::Response,
    buf: String,
    id: String,
}

#[derive(Debug)]
struct Event {
    id: String,
    name: String,
    data: Value,
}

impl Sse {
    async fn open(s: &TestServer) -> Sse {
        let resp = s
            .client
            .get(format!("{}/api/realtime", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let mut sse = Sse {
            resp,
            buf: String::new(),
            id: String::new(),
        };
        let first = sse.next(Duration::from_secs(5)).await.expect("PB_CONNECT");
        assert_eq!(first.name, "PB_CONNECT");
        assert_eq!(first.data, json!({"clientId": first.id}));
        sse.id = first.id;
        sse
    }

    /// The next event within `wait`, skipping comments; `None` on timeout or end.
    async fn next(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = Event {
                    id: String::new(),
                    name: String::new(),
                    data: Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.name = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v);
                    }
                }
                if event.name.is_empty() {
                    continue;
                }
                event.data = serde_json::from_str(&data).unwrap();
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Every event until `wait` passes without one.
    async fn drain(&mut self, wait: Duration) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(e) = self.next(wait).await {
            out.push(e);
        }
        out
    }
}

const QUIET: Duration = Duration::from_millis(600);
const WAIT: Duration = Duration::from_secs(5);

async fn subscribe(
    s: &TestServer,
    token: Option<&str>,
    client_id: &str,
    topics: &[&str],
) -> (StatusCode, Value) {
    s.call_as(
        token,
        Method::POST,
        "/api/realtime",
        Some(json!({"clientId": client_id, "subscriptions": topics})),
    )
    .await
}

async fn signup(s: &TestServer, email: &str) -> (String, String) {
    let body = s
        .create_record(
            "rt_users",
            json!({"email": email, "password": "password123", "passwordConfirm": "password123"}),
        )
        .await;
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/rt_users/auth-with-password",
            Some(json!({"identity": email, "password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, body["token"].as_str().unwrap().to_owned())
}

struct World {
    s: TestServer,
    alice: String,
    bob: String,
    alice_id: String,
    bob_id: String,
}

/// Users who see their own notes only, and notes with a hidden field.
async fn world() -> World {
    let s = TestServer::start().await;
    s.create_collection(json!({
        "name": "rt_users", "type": "auth",
        "fields": [{"name": "name", "type": "text"}],
        "listRule": "id = @request.auth.id",
        "viewRule": "id = @request.auth.id",
    }))
    .await;
    let (alice_id, alice) = signup(&s, "alice@example.com").await;
    let (bob_id, bob) = signup(&s, "bob@example.com").await;
    let users = s
        .call(Method::GET, "/api/collections/rt_users", None)
        .await
        .1;
    s.create_collection(json!({
        "name": "rt_notes",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "secret", "type": "text", "hidden": true},
            {"name": "owner", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
        ],
        "listRule": "owner = @request.auth.id",
        "viewRule": "owner = @request.auth.id",
    }))
    .await;
    World {
        s,
        alice,
        bob,
        alice_id,
        bob_id,
    }
}

async fn note(s: &TestServer, title: &str, owner: &str) -> Value {
    s.create_record(
        "rt_notes",
        json!({"title": title, "secret": "s3cret", "owner": owner}),
    )
    .await
}

#[tokio::test]
async fn connect_sends_pb_connect_first_with_sse_headers() {
    let s = TestServer::start().await;
    let mut resp = s
        .client
        .get(format!("{}/api/realtime", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-accel-buffering"], "no");
    let first = String::from_utf8(resp.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let id = first
        .strip_prefix("id:")
        .and_then(|r| r.split('\n').next())
        .unwrap()
        .to_owned();
    assert!(id.len() >= 20, "{first}");
    assert_eq!(
        first,
        format!("id:{id}\nevent:PB_CONNECT\ndata:{{\"clientId\":\"{id}\"}}\n\n")
    );
}

#[tokio::test]
async fn subscription_requests_are_checked_like_pocketbase() {
    let w = world().await;
    let s = &w.s;
    let sse = Sse::open(s).await;
    let (status, body) = s
        .call_as(None, Method::POST, "/api/realtime", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["data"]["clientId"]["code"], "validation_required");
    let (status, body) = subscribe(s, None, "nope", &["rt_notes/*"]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["message"], "Missing or invalid client id.");
    assert_eq!(body["status"], 404);
    let too_long = "x".repeat(2501);
    let (status, body) = subscribe(s, None, &sse.id, &[too_long.as_str()]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // guest → user is an upgrade; user → another user or back to guest is refused.
    assert_eq!(
        subscribe(s, None, &sse.id, &["rt_notes/*"]).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        subscribe(s, Some(&w.alice), &sse.id, &["rt_notes/*"])
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = subscribe(s, Some(&w.bob), &sse.id, &["rt_notes/*"]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        "The current and the previous request authorization don't match."
    );
    assert_eq!(
        subscribe(s, None, &sse.id, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        subscribe(s, Some(&w.alice), &sse.id, &[]).await.0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn events_pass_each_subscribers_rules() {
    let w = world().await;
    let s = &w.s;
    let mut a = Sse::open(s).await;
    let mut b = Sse::open(s).await;
    let mut guest = Sse::open(s).await;
    let mut root = Sse::open(s).await;
    assert_eq!(
        subscribe(s, Some(&w.alice), &a.id, &["rt_notes/*"]).await.0,
        StatusCode::NO_CONTENT
    );
    subscribe(s, Some(&w.bob), &b.id, &["rt_notes/*"]).await;
    subscribe(s, None, &guest.id, &["rt_notes/*"]).await;
    subscribe(s, Some(&s.token), &root.id, &["rt_notes/*"]).await;
    let na = note(s, "for alice", &w.alice_id).await;
    let nb = note(s, "for bob", &w.bob_id).await;

    let got = a.drain(QUIET).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].name, "rt_notes/*");
    assert_eq!(got[0].id, a.id);
    assert_eq!(got[0].data["action"], "create");
    assert_eq!(got[0].data["record"]["id"], na["id"]);
    assert!(
        got[0].data["record"].get("secret").is_none(),
        "hidden fields stay hidden"
    );
    let got = b.drain(QUIET).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].data["record"]["id"], nb["id"]);
    assert!(guest.drain(QUIET).await.is_empty());
    let got = root.drain(QUIET).await;
    assert_eq!(got.len(), 2, "superusers see everything: {got:?}");
    assert_eq!(got[0].data["record"]["secret"], "s3cret");
}

#[tokio::test]
async fn record_topics_use_the_view_rule_and_deletes_carry_the_last_state() {
    let w = world().await;
    let s = &w.s;
    let na = note(s, "mine", &w.alice_id).await;
    let nb = note(s, "bobs", &w.bob_id).await;
    let (ida, idb) = (na["id"].as_str().unwrap(), nb["id"].as_str().unwrap());
    let mut a = Sse::open(s).await;
    let topic_a = format!("rt_notes/{ida}");
    let topic_b = format!("rt_notes/{idb}");
    subscribe(s, Some(&w.alice), &a.id, &[&topic_a, &topic_b]).await;
    for id in [ida, idb] {
        let (status, _) = s
            .call(
                Method::PATCH,
                &format!("/api/collections/rt_notes/records/{id}"),
                Some(json!({"title": "changed"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let got = a.next(WAIT).await.unwrap();
    assert_eq!(got.name, topic_a);
    assert_eq!(got.data["action"], "update");
    assert_eq!(got.data["record"]["title"], "changed");
    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/collections/rt_notes/records/{ida}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let got = a.next(WAIT).await.unwrap();
    assert_eq!(got.name, topic_a);
    assert_eq!(got.data["action"], "delete");
    assert_eq!(got.data["record"]["id"], ida);
    assert_eq!(got.data["record"]["title"], "changed");
    assert_eq!(got.data["record"]["owner"], w.alice_id.as_str());
    assert!(a.drain(QUIET).await.is_empty(), "nothing of bob's note");
}

#[tokio::test]
async fn subscription_options_filter_fields_and_expand() {
    let w = world().await;
    let s = &w.s;
    let mut a = Sse::open(s).await;
    let options = json!({"query": {"filter": "title ~ 'keep'", "fields": "id,title,expand", "expand": "owner"}});
    let topic = format!(
        "rt_notes/*?options={}",
        urlencoding::encode(&options.to_string())
    );
    subscribe(s, Some(&w.alice), &a.id, &[&topic]).await;
    note(s, "drop this", &w.alice_id).await;
    note(s, "keep this", &w.alice_id).await;
    let got = a.drain(QUIET).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0].name, topic,
        "the event name is the subscription verbatim"
    );
    let record = &got[0].data["record"];
    assert_eq!(record["title"], "keep this");
    assert!(record.get("owner").is_none(), "fields picks: {record}");
    assert_eq!(record["expand"]["owner"]["id"], w.alice_id.as_str());
    assert_eq!(
        record["expand"]["owner"]["email"], "alice@example.com",
        "the owner sees their own email"
    );
    // A filter through a collection the subscriber may not list matches nothing.
    let mut b = Sse::open(s).await;
    let options = json!({"query": {"filter": "owner.email = 'alice@example.com'"}});
    let topic = format!(
        "rt_notes/*?options={}",
        urlencoding::encode(&options.to_string())
    );
    subscribe(s, Some(&s.token), &b.id, &[&topic]).await;
    note(s, "keep too", &w.alice_id).await;
    assert_eq!(b.drain(QUIET).await.len(), 1);
}

#[tokio::test]
async fn rule_changes_apply_to_open_subscriptions() {
    let w = world().await;
    let s = &w.s;
    let mut a = Sse::open(s).await;
    subscribe(s, Some(&w.alice), &a.id, &["rt_notes/*"]).await;
    note(s, "one", &w.alice_id).await;
    assert_eq!(a.drain(QUIET).await.len(), 1);
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/rt_notes",
            Some(json!({"listRule": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    note(s, "two", &w.alice_id).await;
    assert!(a.drain(QUIET).await.is_empty(), "superusers only now");
    let (status, _) = s
        .call(Method::DELETE, "/api/collections/rt_notes", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(a.drain(QUIET).await.is_empty());
}

#[tokio::test]
async fn a_changed_password_or_deleted_user_unsets_the_clients_auth() {
    let w = world().await;
    let s = &w.s;
    let mut a = Sse::open(s).await;
    subscribe(s, Some(&w.alice), &a.id, &["rt_notes/*"]).await;
    note(s, "before", &w.alice_id).await;
    assert_eq!(a.drain(QUIET).await.len(), 1);
    let (status, body) = s
        .call(
            Method::PATCH,
            &format!("/api/collections/rt_users/records/{}", w.alice_id),
            Some(json!({"password": "password456", "passwordConfirm": "password456"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    note(s, "after", &w.alice_id).await;
    assert!(
        a.drain(QUIET).await.is_empty(),
        "the old session is signed out"
    );
    // Now a guest again, the client may authenticate as anyone.
    assert_eq!(
        subscribe(s, Some(&w.bob), &a.id, &["rt_notes/*"]).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/collections/rt_users/records/{}", w.bob_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut root = Sse::open(s).await;
    subscribe(s, Some(&s.token), &root.id, &["rt_notes/*"]).await;
    note(s, "alice again", &w.alice_id).await;
    assert!(a.drain(QUIET).await.is_empty());
    assert_eq!(root.drain(QUIET).await.len(), 1);
}

#[tokio::test]
async fn a_slow_consumer_is_disconnected_without_blocking_writers() {
    let s = TestServer::start_with(|c| c.realtime.queue = 4).await;
    s.create_collection(json!({
        "name": "rt_big", "fields": [{"name": "body", "type": "text", "max": 100000}],
        "listRule": "",
    }))
    .await;
    let mut slow = Sse::open(&s).await;
    let mut fast = Sse::open(&s).await;
    subscribe(&s, None, &slow.id, &["rt_big/*"]).await;
    subscribe(&s, None, &fast.id, &["rt_big/*"]).await;
    let body = "x".repeat(64 << 10);
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while fast.next(Duration::from_secs(10)).await.is_some() {
            n += 1;
            if n == 200 {
                break;
            }
        }
        n
    });
    // 200 × 64 KiB is more than the socket buffers hold: the unread stream's queue fills.
    for _ in 0..200 {
        let (status, _) = s
            .call(
                Method::POST,
                "/api/collections/rt_big/records",
                Some(json!({"body": body})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(reader.await.unwrap(), 200, "the fast reader got everything");
    let mut got = 0;
    while slow.next(Duration::from_secs(3)).await.is_some() {
        got += 1;
    }
    assert!(got < 200, "the slow client was cut off after {got} events");
}
