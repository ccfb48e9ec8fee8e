//! Plugins: record hooks (order, data, modification, rejection, containment), auth
//! hooks, custom routes and their access, cron jobs, and the first-party plugins,
//! through a test plugin registered as a value on the real server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_plugin_api::{
    json, Access, Actor, Host, ListQuery, Method as M, Plugin, PluginError, RecordAction, Registry,
    Reject, RouteResponse, Scope, Value as J,
};
use parking_lot::Mutex;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::kit::TestServer;

/// What the probe plugin saw, in order.
#[derive(Clone, Default)]
struct Seen {
    events: Arc<Mutex<Vec<String>>>,
    cron_runs: Arc<AtomicUsize>,
}

impl Seen {
    fn push(&self, e: String) {
        self.events.lock().push(e);
    }

    fn all(&self) -> Vec<String> {
        self.events.lock().clone()
    }

    /// Waits (a few seconds at most) until an event starting with `prefix` arrived.
    async fn wait_for(&self, prefix: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let all = self.all();
            if all.iter().any(|e| e.starts_with(prefix)) {
                return all;
            }
            assert!(Instant::now() < deadline, "no {prefix:?} in {all:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct Probe(Seen);

fn title(body: &basalt_plugin_api::Record) -> String {
    body.get("title")
        .and_then(J::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn who(actor: &Actor) -> String {
    match actor {
        Actor::Guest => "guest".into(),
        Actor::Superuser { .. } => "superuser".into(),
        Actor::Auth { collection, .. } => collection.clone(),
        Actor::System => "system".into(),
    }
}

impl Plugin for Probe {
    fn name(&self) -> &str {
        "probe"
    }

    fn register(&self, r: &mut Registry) -> Result<(), PluginError> {
        let notes = Scope::collection("notes");
        let seen = self.0.clone();
        r.before(RecordAction::Create, notes.clone(), move |w| {
            let t = title(w.body);
            seen.push(format!("before:create:{t}:{}", who(w.actor)));
            match t.as_str() {
                "reject" => Err(Reject::field(
                    "title",
                    "not_allowed",
                    "This title is not allowed.",
                )),
                "panic" => panic!("probe before-hook bug"),
                "shout" => {
                    w.body.insert("title".into(), json!("SHOUT"));
                    Ok(())
                }
                _ => Ok(()),
            }
        });
        let seen = self.0.clone();
        r.before(RecordAction::Update, notes.clone(), move |w| {
            let old = w.old.map(title).unwrap_or_default();
            seen.push(format!("before:update:{old}->{}", title(w.body)));
            if title(w.body) == "reject" {
                return Err(Reject::field("title", "not_allowed", "No."));
            }
            Ok(())
        });
        let seen = self.0.clone();
        r.before(RecordAction::Delete, notes.clone(), move |w| {
            let old = w.old.map(title).unwrap_or_default();
            seen.push(format!("before:delete:{old}"));
            if old == "keep" {
                return Err(Reject::new("This note is kept."));
            }
            Ok(())
        });
        let seen = self.0.clone();
        r.after_any(notes, move |_, e| {
            let old = e.old.as_ref().map(title).unwrap_or_default();
            seen.push(format!(
                "after:{}:{}:{old}:{}",
                e.action.as_str(),
                title(&e.record),
                who(&e.actor)
            ));
            if title(&e.record) == "after-panic" {
                panic!("probe after-hook bug");
            }
            Ok(())
        });
        let seen = self.0.clone();
        r.after_login(move |_, e| {
            seen.push(format!("login:{}:{}", e.collection, e.method));
            Ok(())
        });
        r.before_signup(|s| {
            let email = s.body.get("email").and_then(J::as_str).unwrap_or_default();
            if email.ends_with("@blocked.test") {
                return Err(Reject::field(
                    "email",
                    "blocked_domain",
                    "This domain cannot sign up.",
                ));
            }
            Ok(())
        });
        r.route(M::Get, "/hello/:name", Access::Public, |_, req| {
            RouteResponse::ok(json!({"hello": req.param("name"), "by": who(&req.actor)}))
        });
        r.route(M::Get, "/me", Access::Authenticated, |_, req| {
            RouteResponse::ok(json!({"by": who(&req.actor)}))
        });
        r.route(
            M::Get,
            "/admin",
            Access::Superuser,
            |host: &dyn Host, _| match host.list("notes", &ListQuery::default()) {
                Ok(items) => RouteResponse::ok(json!({"notes": items.len()})),
                Err(e) => RouteResponse::error(500, e.to_string()),
            },
        );
        let policy = Access::Policy {
            collection: "notes".into(),
            action: "create".into(),
        };
        r.route(M::Post, "/notes", policy, |host: &dyn Host, req| {
            let mut body = basalt_plugin_api::Map::new();
            body.insert("title".into(), req.body["title"].clone());
            match host.create("notes", body) {
                Ok(record) => RouteResponse::ok(J::Object(record)),
                Err(e) => RouteResponse::error(e.status, e.message),
            }
        });
        r.route(M::Get, "/panic", Access::Public, |_, _| {
            panic!("probe route bug")
        });
        r.route(M::Get, "/teapot", Access::Public, |_, _| {
            RouteResponse::error(409, "Already brewing.")
        });
        let runs = self.0.cron_runs.clone();
        r.cron("tick", "* * * * *", move |host| {
            host.list("_superusers", &ListQuery::default())?;
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        Ok(())
    }
}

async fn probe_server() -> (TestServer, Seen) {
    let seen = Seen::default();
    let plugin = Arc::new(Probe(seen.clone()));
    let s = TestServer::start_with(|c| {
        c.plugin_instances.0.push(plugin);
        c.plugin_cron_tick = Duration::from_millis(50);
    })
    .await;
    s.create_collection(json!({
        "name": "notes",
        "fields": [{"name": "title", "type": "text", "required": true}],
        "listRule": "", "viewRule": "", "createRule": null, "updateRule": "", "deleteRule": "",
    }))
    .await;
    s.create_collection(json!({
        "name": "users", "type": "auth",
        "createRule": "", "listRule": "id = @request.auth.id", "viewRule": "id = @request.auth.id",
    }))
    .await;
    (s, seen)
}

async fn count(s: &TestServer, collection: &str) -> i64 {
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/api/collections/{collection}/records"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["totalItems"].as_i64().unwrap()
}

async fn user(s: &TestServer, email: &str) -> (StatusCode, Value) {
    s.call_as(
        None,
        Method::POST,
        "/api/collections/users/records",
        Some(json!({"email": email, "password": "password123", "passwordConfirm": "password123"})),
    )
    .await
}

async fn login(s: &TestServer, email: &str) -> String {
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/auth-with-password",
            Some(json!({"identity": email, "password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn record_hooks_fire_in_order_with_their_data_and_changes_are_stored() {
    let (s, seen) = probe_server().await;
    let created = s.create_record("notes", json!({"title": "shout"})).await;
    assert_eq!(
        created["title"], "SHOUT",
        "the before-hook's change is stored"
    );
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/collections/notes/records/{id}");
    let (status, body) = s
        .call(Method::PATCH, &path, Some(json!({"title": "calm"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = s.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let all = seen.wait_for("after:delete").await;
    let notes: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|e| !e.starts_with("login"))
        .collect();
    assert_eq!(
        notes,
        [
            "before:create:shout:superuser",
            "after:create:SHOUT::superuser",
            "before:update:SHOUT->calm",
            "after:update:calm:SHOUT:superuser",
            "before:delete:calm",
            "after:delete:calm::superuser",
        ],
        "{all:?}"
    );
}

#[tokio::test]
async fn a_rejection_writes_nothing_and_names_the_field_also_in_a_batch() {
    let (s, seen) = probe_server().await;
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections/notes/records",
            Some(json!({"title": "reject"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["status"], 400);
    assert_eq!(body["data"]["title"]["code"], "not_allowed", "{body}");
    assert_eq!(
        body["data"]["title"]["message"],
        "This title is not allowed."
    );
    assert_eq!(count(&s, "notes").await, 0);

    let kept = s.create_record("notes", json!({"title": "keep"})).await;
    let path = format!(
        "/api/collections/notes/records/{}",
        kept["id"].as_str().unwrap()
    );
    let (status, body) = s
        .call(Method::PATCH, &path, Some(json!({"title": "reject"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "This note is kept.");
    let (_, body) = s.call(Method::GET, &path, None).await;
    assert_eq!(
        body["title"], "keep",
        "neither the update nor the delete happened"
    );

    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"batch": {"enabled": true, "maxRequests": 10, "timeout": 5}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let requests = json!({"requests": [
        {"method": "POST", "url": "/api/collections/notes/records", "body": {"title": "fine"}},
        {"method": "POST", "url": "/api/collections/notes/records", "body": {"title": "reject"}},
    ]});
    let (status, body) = s.call(Method::POST, "/api/batch", Some(requests)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let failed = &body["data"]["requests"]["1"]["response"];
    assert_eq!(failed["data"]["title"]["code"], "not_allowed", "{body}");
    assert_eq!(count(&s, "notes").await, 1, "the whole batch failed");
    assert!(seen
        .all()
        .iter()
        .any(|e| e == "before:create:fine:superuser"));
    assert!(!seen
        .all()
        .iter()
        .any(|e| e.starts_with("after:create:fine")));
}

#[tokio::test]
async fn a_panicking_hook_is_contained() {
    let (s, seen) = probe_server().await;
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections/notes/records",
            Some(json!({"title": "panic"})),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["code"], "plugin_failed");
    assert!(
        body["message"].as_str().unwrap().contains("probe"),
        "{body}"
    );
    assert_eq!(
        count(&s, "notes").await,
        0,
        "nothing of the write is stored"
    );

    // an after-hook that panics: the write stands, later events still arrive
    s.create_record("notes", json!({"title": "after-panic"}))
        .await;
    s.create_record("notes", json!({"title": "later"})).await;
    seen.wait_for("after:create:later").await;
    assert_eq!(count(&s, "notes").await, 2);
    let (status, _) = s.call(Method::GET, "/api/health", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s
        .call_as(None, Method::GET, "/api/x/probe/panic", None)
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["code"], "plugin_failed");
}

#[tokio::test]
async fn routes_honour_their_declared_access_and_policies() {
    let (s, _) = probe_server().await;
    let (status, _) = user(&s, "ann@example.com").await;
    assert_eq!(status, StatusCode::OK);
    let ann = login(&s, "ann@example.com").await;

    let (status, body) = s
        .call_as(None, Method::GET, "/api/x/probe/hello/world", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"hello": "world", "by": "guest"}));
    let (status, body) = s.call_as(None, Method::GET, "/api/x/probe/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["status"], 401);
    let (status, body) = s
        .call_as(Some(&ann), Method::GET, "/api/x/probe/me", None)
        .await;
    assert_eq!(
        (status, body["by"].clone()),
        (StatusCode::OK, json!("users"))
    );
    let (status, _) = s
        .call_as(Some(&ann), Method::GET, "/api/x/probe/admin", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s.call(Method::GET, "/api/x/probe/admin", None).await;
    assert_eq!((status, body["notes"].clone()), (StatusCode::OK, json!(0)));

    // notes' createRule is null: only a casbin policy opens the route
    let post = Some(json!({"title": "via route"}));
    let (status, _) = s
        .call_as(None, Method::POST, "/api/x/probe/notes", post.clone())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = s
        .call_as(Some(&ann), Method::POST, "/api/x/probe/notes", post.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s
        .call(
            Method::POST,
            "/api/policies",
            Some(json!({"role": "users", "collection": "notes", "action": "create", "condition": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s
        .call_as(Some(&ann), Method::POST, "/api/x/probe/notes", post)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "via route");

    for (path, want) in [
        ("/api/x/probe/nope", StatusCode::NOT_FOUND),
        ("/api/x/other/hello/x", StatusCode::NOT_FOUND),
        ("/api/x/probe/teapot", StatusCode::CONFLICT),
    ] {
        let (status, body) = s.call_as(None, Method::GET, path, None).await;
        assert_eq!(status, want, "{path}: {body}");
        assert_eq!(body["status"], want.as_u16(), "{body}");
    }
    let resp = s
        .client
        .post(format!("{}/api/x/probe/notes", s.url))
        .header("Authorization", &s.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn auth_hooks_see_logins_and_can_refuse_signups() {
    let (s, seen) = probe_server().await;
    let (status, body) = user(&s, "eve@blocked.test").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["data"]["email"]["code"], "blocked_domain");
    assert_eq!(count(&s, "users").await, 0);
    let (status, _) = user(&s, "bo@example.com").await;
    assert_eq!(status, StatusCode::OK);
    login(&s, "bo@example.com").await;
    seen.wait_for("login:users:password").await;
    assert!(seen
        .all()
        .contains(&"login:_superusers:password".to_owned()));
}

#[tokio::test]
async fn a_cron_job_runs_on_its_schedule() {
    let (_s, seen) = probe_server().await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while seen.cron_runs.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the every-minute job did not run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Once per matching minute however often the schedule is checked (two only if
    // the minute turned meanwhile).
    assert!(seen.cron_runs.load(Ordering::SeqCst) <= 2);
}
