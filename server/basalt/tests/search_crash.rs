//! Search crash-replay, end to end: the real `basalt serve` binary acknowledges writes
//! whose index commit is held back (a very long commit interval), is killed with
//! SIGKILL before that commit, and after a restart on the same data directory the
//! indexer replays the change log from the sequence in the last index commit, so every
//! acknowledged write is searchable (creates found, updates and deletes reflected).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const EMAIL: &str = "crash@example.com";
const PASSWORD: &str = "crash-test-password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &std::path::Path, port: u16, commit_ms: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args(["serve", "--http", &format!("127.0.0.1:{port}"), "--dir"])
        .arg(dir)
        .args(["--search-commit-ms", &commit_ms.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Client {
    async fn connect(port: u16) -> Client {
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = http.get(format!("{url}/api/health")).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let body: Value = http
            .post(format!(
                "{url}/api/collections/_superusers/auth-with-password"
            ))
            .json(&json!({"identity": EMAIL, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = body["token"].as_str().unwrap().to_owned();
        Client { http, url, token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("Authorization", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    async fn total(&self, search: &str) -> i64 {
        let path = format!(
            "/api/collections/notes/records?search={}",
            search.replace(' ', "%20")
        );
        self.send(reqwest::Method::GET, &path, None).await["totalItems"]
            .as_i64()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_are_searchable_after_kill_9_before_the_index_commit() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args(["superuser", "upsert", EMAIL, PASSWORD, "--dir"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());

    // Round 1: a normal server creates the collection and a committed baseline.
    let port = free_port();
    let mut child = start(dir.path(), port, 50);
    let c = Client::connect(port).await;
    c.send(
        reqwest::Method::POST,
        "/api/collections",
        Some(json!({"name": "notes", "listRule": "",
            "fields": [{"name": "text", "type": "text", "searchable": true}]})),
    )
    .await;
    let old = c
        .send(
            reqwest::Method::POST,
            "/api/collections/notes/records",
            Some(json!({"text": "baseline marmot"})),
        )
        .await;
    let doomed = c
        .send(
            reqwest::Method::POST,
            "/api/collections/notes/records",
            Some(json!({"text": "doomed heron"})),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.total("marmot OR heron").await != 2 {
        assert!(
            Instant::now() < deadline,
            "baseline never became searchable"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Round 2: index commits held back for an hour; writes are acknowledged, then
    // the process dies before any of them reaches the index.
    let port = free_port();
    let mut child = start(dir.path(), port, 3_600_000);
    let c = Client::connect(port).await;
    for i in 0..20 {
        c.send(
            reqwest::Method::POST,
            "/api/collections/notes/records",
            Some(json!({"text": format!("acknowledged pelican {i}")})),
        )
        .await;
    }
    let id = old["id"].as_str().unwrap();
    c.send(
        reqwest::Method::PATCH,
        &format!("/api/collections/notes/records/{id}"),
        Some(json!({"text": "baseline otter"})),
    )
    .await;
    let id = doomed["id"].as_str().unwrap();
    c.send(
        reqwest::Method::DELETE,
        &format!("/api/collections/notes/records/{id}"),
        None,
    )
    .await;
    assert_eq!(
        c.total("pelican").await,
        0,
        "the index must not have committed yet, or this test proves nothing"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // Round 3: a restart replays the change log from the index's commit payload.
    let port = free_port();
    let mut child = start(dir.path(), port, 200);
    let c = Client::connect(port).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (pelicans, otters, marmots, herons) = (
            c.total("pelican").await,
            c.total("otter").await,
            c.total("marmot").await,
            c.total("heron").await,
        );
        if (pelicans, otters, marmots, herons) == (20, 1, 0, 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "index stale after restart: {pelicans} pelicans, {otters} otters, \
             {marmots} marmots, {herons} herons"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
