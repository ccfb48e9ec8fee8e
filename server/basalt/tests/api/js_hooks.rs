//! JavaScript hooks (`hooks_dir`): before-hooks that change or reject writes,
//! after-hooks writing through `$app`, routes and their access, the time limit, and
//! reloading on file changes (a broken file keeps the previous set active).

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

/// A server running the scripts `files` (name, source) from a fresh hooks dir.
async fn server_with(files: &[(&str, &str)]) -> (TestServer, tempfile::TempDir) {
    server_adjusted(files, |_| {}).await
}

async fn server_adjusted(
    files: &[(&str, &str)],
    adjust: impl FnOnce(&mut basalt::Config) + Send + 'static,
) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in files {
        std::fs::write(dir.path().join(name), source).unwrap();
    }
    let path = dir.path().to_owned();
    let s = TestServer::start_with(move |c| {
        c.hooks_dir = Some(path);
        c.hooks_timeout = Duration::from_millis(300);
        c.hooks_poll = Duration::from_millis(100);
        c.plugin_cron_tick = Duration::from_millis(50);
        adjust(c);
    })
    .await;
    for name in ["posts", "seen"] {
        s.create_collection(json!({
            "name": name,
            "fields": [{"name": "title", "type": "text"}],
            "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
        }))
        .await;
    }
    (s, dir)
}

async fn create(s: &TestServer, collection: &str, title: &str) -> (StatusCode, Value) {
    let path = format!("/api/collections/{collection}/records");
    s.call(Method::POST, &path, Some(json!({ "title": title })))
        .await
}

async fn titles(s: &TestServer, collection: &str) -> Vec<String> {
    let path = format!("/api/collections/{collection}/records?perPage=200");
    let (status, body) = s.call(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Waits (5 s at most) until creating a post stores `want` for `title`.
async fn wait_for_title(s: &TestServer, title: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = create(s, "posts", title).await;
        if status == StatusCode::OK && body["title"] == want {
            return;
        }
        assert!(Instant::now() < deadline, "still {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write(dir: &Path, name: &str, source: &str) {
    std::fs::write(dir.join(name), source).unwrap();
}

const TITLES: &str = r#"
onRecordBeforeCreate("posts", (e) => {
  if (e.body.title === "bad") {
    throw new ValidationError("title", "no_bad", "Bad titles are refused.");
  }
  if (e.body.title === "throw") {
    throw new Error("the script broke");
  }
  e.body.title = String(e.body.title).toUpperCase();
});
onRecordAfterCreate("posts", (e) => {
  $app.createRecord("seen", { title: "created " + e.record.title });
});
"#;

#[tokio::test]
async fn before_create_hook_changes_the_stored_body() {
    let (s, _dir) = server_with(&[("titles.js", TITLES)]).await;
    let (status, body) = create(&s, "posts", "hello").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "HELLO");
    let path = format!(
        "/api/collections/posts/records/{}",
        body["id"].as_str().unwrap()
    );
    let (_, stored) = s.call(Method::GET, &path, None).await;
    assert_eq!(stored["title"], "HELLO");
    // Other collections are untouched by a hook scoped to posts.
    let (_, other) = create(&s, "seen", "quiet").await;
    assert_eq!(other["title"], "quiet");
}

#[tokio::test]
async fn validation_error_gives_the_400_envelope_and_writes_nothing() {
    let (s, _dir) = server_with(&[("titles.js", TITLES)]).await;
    let (status, body) = create(&s, "posts", "bad").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["status"], 400);
    assert_eq!(body["data"]["title"]["code"], "no_bad");
    assert_eq!(body["data"]["title"]["message"], "Bad titles are refused.");
    assert!(titles(&s, "posts").await.is_empty());
    // Any other throw fails that request only, naming the plugin; nothing is stored.
    let (status, body) = create(&s, "posts", "throw").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("\"js\""),
        "{body}"
    );
    assert!(titles(&s, "posts").await.is_empty());
    let (status, _) = create(&s, "posts", "fine").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn after_create_hook_writes_through_app() {
    let (s, _dir) = server_with(&[("titles.js", TITLES)]).await;
    let (status, _) = create(&s, "posts", "first").await;
    assert_eq!(status, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let seen = titles(&s, "seen").await;
        if seen == ["created FIRST"] {
            break;
        }
        assert!(Instant::now() < deadline, "seen: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_time_limit() {
    let script = r#"
onRecordBeforeCreate("posts", (e) => {
  if (e.body.title === "loop") { while (true) {} }
});
"#;
    let (s, _dir) = server_with(&[("loop.js", script)]).await;
    let started = Instant::now();
    let (status, body) = create(&s, "posts", "loop").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(titles(&s, "posts").await.is_empty());
    // The runtime survives and the server keeps serving, hooks included.
    let (status, body) = create(&s, "posts", "after").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = create(&s, "posts", "loop").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn routes_answer_with_their_declared_access() {
    let script = r#"
routerAdd("GET", "/hello/:name", (c) => ({ hello: c.params.name, by: c.auth.type }), "public");
routerAdd("GET", "/count", (c) => c.json(201, { posts: $app.findRecords("posts").length }), "superuser");
routerAdd("POST", "/me", (c) => ({ by: c.auth.type, got: c.body }), "auth");
routerAdd("GET", "/teapot", (c) => c.json(409, { message: "Already brewing." }), "public");
routerAdd("GET", "/refuse", (c) => { throw new ValidationError("q", "no", "Not today."); }, "public");
routerAdd("GET", "/broken", (c) => { return undefinedThing.x; }, "public");
"#;
    let (s, _dir) = server_with(&[("routes.js", script)]).await;
    let (status, body) = s
        .call_as(None, Method::GET, "/api/x/js/hello/ada", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"hello": "ada", "by": "guest"}));
    let (status, _) = s.call_as(None, Method::GET, "/api/x/js/count", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s.call(Method::GET, "/api/x/js/count", None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!({"posts": 0}));
    let (status, _) = s
        .call_as(None, Method::POST, "/api/x/js/me", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s
        .call(Method::POST, "/api/x/js/me", Some(json!({"a": 1})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"by": "superuser", "got": {"a": 1}}));
    let (status, body) = s.call(Method::GET, "/api/x/js/teapot", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Already brewing.");
    let (status, body) = s.call(Method::GET, "/api/x/js/refuse", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Not today.");
    let (status, body) = s.call(Method::GET, "/api/x/js/broken", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains("undefinedThing"), "{body}");
    let (status, _) = s.call(Method::GET, "/api/x/js/nowhere", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn editing_a_script_reloads_and_a_syntax_error_keeps_the_active_set() {
    let hook = |suffix: &str| {
        format!(r#"onRecordBeforeCreate("posts", (e) => {{ e.body.title += "{suffix}"; }});"#)
    };
    let (s, dir) = server_with(&[("a.js", &hook("-v1"))]).await;
    wait_for_title(&s, "x", "x-v1").await;
    write(dir.path(), "a.js", &hook("-v2"));
    wait_for_title(&s, "x", "x-v2").await;
    // A new file with a syntax error: the set with it is refused, v2 stays active.
    write(
        dir.path(),
        "b.js",
        "onRecordBeforeCreate(\"posts\", (e) => {",
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, body) = create(&s, "posts", "y").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "y-v2");
    // Fixed, the new file joins (files run in name order).
    write(dir.path(), "b.js", &hook("-b"));
    wait_for_title(&s, "x", "x-v2-b").await;
    // Removed files take their hooks with them.
    std::fs::remove_file(dir.path().join("a.js")).unwrap();
    wait_for_title(&s, "x", "x-b").await;
}

#[tokio::test]
async fn a_script_over_its_memory_limit_fails_its_request_only() {
    let script = r#"
onRecordBeforeCreate("posts", (e) => {
  if (e.body.title === "hog") {
    const hoard = [];
    while (true) { hoard.push(new Array(100000).fill(e.body.title)); }
  }
});
"#;
    let (s, _dir) = server_adjusted(&[("hog.js", script)], |c| {
        c.hooks_memory_bytes = 8 << 20;
        c.hooks_timeout = Duration::from_secs(10);
    })
    .await;
    let (status, body) = create(&s, "posts", "hog").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(titles(&s, "posts").await.is_empty());
    let (status, body) = create(&s, "posts", "lean").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn signup_login_and_cron_hooks_run() {
    let script = r#"
let logins = [];
let ticks = 0;
onBeforeSignup((e) => {
  if (String(e.body.email).endsWith("@blocked.test")) {
    throw new ValidationError("email", "blocked_domain", "This domain cannot sign up.");
  }
  e.body.name = "signed up";
});
onAuthLogin((e) => { logins.push(e.collection + ":" + e.method); });
cronAdd("tick", "* * * * *", () => { ticks++; });
routerAdd("GET", "/report", () => ({ logins, ticks }), "public");
"#;
    let (s, _dir) = server_with(&[("auth.js", script)]).await;
    s.create_collection(json!({
        "name": "users", "type": "auth", "createRule": "",
        "fields": [{"name": "name", "type": "text"}],
        "listRule": "id = @request.auth.id", "viewRule": "id = @request.auth.id",
    }))
    .await;
    let signup = |email: &str| json!({"email": email, "password": "1234567890", "passwordConfirm": "1234567890"});
    let path = "/api/collections/users/records";
    let (status, body) = s
        .call_as(None, Method::POST, path, Some(signup("eve@blocked.test")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["data"]["email"]["code"], "blocked_domain");
    let (status, body) = s
        .call_as(None, Method::POST, path, Some(signup("ann@example.com")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "signed up");
    let login = json!({"identity": "ann@example.com", "password": "1234567890"});
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/auth-with-password",
            Some(login),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, report) = s.call(Method::GET, "/api/x/js/report", None).await;
        let logged = report["logins"]
            .as_array()
            .is_some_and(|l| l.contains(&json!("users:password")));
        if logged && report["ticks"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "report: {report}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
