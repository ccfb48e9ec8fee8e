//! First run: `basalt serve` on an empty data directory prints a one-time install URL
//! whose token creates the first superuser, once.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};

struct Served {
    child: Child,
    base: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary on an ephemeral port and reads the install URL it prints.
fn serve_fresh() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args(["serve", "--http", "127.0.0.1:0", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("http://").map(str::to_owned))
        .expect("serve printed no install URL");
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let (host, token) = url.split_once("/_/#/install/").unwrap();
    Served {
        child,
        base: format!("http://{host}"),
        token: token.to_owned(),
        _dir: dir,
    }
}

async fn create_superuser(s: &Served, auth: &str, email: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/collections/_superusers/records", s.base))
        .header("Authorization", auth)
        .json(&json!({"email": email, "password": "first-run-pass", "passwordConfirm": "first-run-pass"}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn install_token_creates_the_first_superuser_once() {
    let s = serve_fresh();
    assert!(s.token.len() >= 32, "{}", s.token);

    // Change the last character (to something it is not: a token may end in 'x').
    let (head, last) = s.token.split_at(s.token.len() - 1);
    let wrong = format!("{head}{}", if last == "x" { "y" } else { "x" });
    let (status, body) = create_superuser(&s, &wrong, "a@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = create_superuser(&s, "", "a@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Invalid input does not use the token up.
    let (status, body) = create_superuser(&s, &s.token, "not-an-email").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["data"]["email"].is_object(), "{body}");

    let (status, body) = create_superuser(&s, &s.token, "first@example.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "first@example.com");
    assert!(body.get("password").is_none());

    let (status, body) = create_superuser(&s, &s.token, "second@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let client = reqwest::Client::new();
    let login = client
        .post(format!(
            "{}/api/collections/_superusers/auth-with-password",
            s.base
        ))
        .json(&json!({"identity": "first@example.com", "password": "first-run-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn install_token_authorizes_nothing_but_the_first_superuser() {
    let s = serve_fresh();
    let client = reqwest::Client::new();
    let (status, _) = {
        let r = client
            .get(format!("{}/api/collections", s.base))
            .header("Authorization", &s.token)
            .send()
            .await
            .unwrap();
        (r.status(), ())
    };
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let r = client
        .post(format!("{}/api/collections", s.base))
        .header("Authorization", &s.token)
        .json(&json!({"name": "posts", "type": "base"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}

#[tokio::test]
async fn install_token_stops_working_once_a_superuser_exists() {
    let dir = tempfile::tempdir().unwrap();
    let config = basalt::Config {
        dir: dir.path().to_path_buf(),
        ..basalt::Config::default()
    };
    let services = basalt::open_services(&config).unwrap();
    let install = basalt_api::InstallToken::generate();
    let token = install.secret().to_owned();
    let state = std::sync::Arc::new(basalt_api::AppState::new(
        services.clone(),
        basalt_api::HttpLimits::default(),
        Some(install),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    let server =
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(basalt_api::routes(state)));

    // A superuser appears by another way (the command line) while serving.
    services
        .upsert_superuser("cli@example.com", "cli-password")
        .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/collections/_superusers/records"))
        .header("Authorization", &token)
        .json(&json!({"email": "late@example.com", "password": "first-run-pass", "passwordConfirm": "first-run-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    server.abort();
}
