//! Operating Basalt: configuration, serving (CORS origins, body limits, HTTPS).

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::kit::TestServer;

#[tokio::test]
async fn cors_echoes_only_configured_origins() {
    let server = TestServer::start_with(|c| c.origins = vec!["https://app.example".into()]).await;
    let get = |origin: &'static str| {
        server
            .client
            .get(format!("{}/api/health", server.url))
            .header("Origin", origin)
            .send()
    };
    let ok = get("https://app.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let other = get("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = server
        .client
        .request(Method::OPTIONS, format!("{}/api/health", server.url))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_in_the_envelope() {
    let server = TestServer::start_with(|c| c.max_body_bytes = 1024).await;
    let big = "x".repeat(4096);
    let resp = server
        .client
        .post(format!("{}/api/collections", server.url))
        .header("Authorization", &server.token)
        .json(&json!({ "name": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 413, "{body}");
    assert!(body["message"].as_str().unwrap().contains("1024"), "{body}");
}

#[tokio::test]
async fn https_serves_with_the_configured_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let (cert_path, key_path) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let server = TestServer::start_with(|c| {
        c.tls = Some(basalt::config::TlsFiles {
            cert: cert_path,
            key: key_path,
        })
    })
    .await;
    assert!(server.url.starts_with("https://"));
    let (status, body) = server.call(Method::GET, "/api/health", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let plain = server.url.replace("https://", "http://");
    assert!(
        reqwest::get(format!("{plain}/api/health")).await.is_err(),
        "plain HTTP must not be answered"
    );
}

fn basalt(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args(args)
        .current_dir(dir)
        .env_remove("BASALT_DIR")
        .env_remove("BASALT_CONFIG")
        .env(
            "BASALT_TOKEN_SECRET",
            "a-secret-that-must-never-be-printed-0123456789",
        )
        .output()
        .unwrap()
}

#[test]
fn config_check_reports_unknown_keys_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("basalt.toml"),
        "http = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let out = basalt(&["config", "check", "--max-body-mb", "8"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("http = \"127.0.0.1:9999\""), "{stdout}");
    assert!(stdout.contains("max_body_mb = 8"), "{stdout}");
    assert!(!stdout.contains("never-be-printed"), "{stdout}");

    std::fs::write(dir.path().join("basalt.toml"), "htp = \"127.0.0.1:9999\"\n").unwrap();
    let out = basalt(&["config", "check"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("unknown field `htp`"), "{stderr}");
}
