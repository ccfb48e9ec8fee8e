//! The generated Rust client against a live server: generate the crate for the fixture
//! schema (sdk/fixture/collections.json) with `basalt sdk generate --url`, build the
//! example app (sdk/rust/example/main.rs) on it without warnings and run it, then remove
//! a field the app uses, regenerate, and prove that the app no longer compiles.
//!
//! The generated crate builds in `target/sdk-rust` (its own target dir, reused between
//! runs), outside the workspace.

#[path = "api/kit.rs"]
#[allow(dead_code)]
mod kit;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kit::{TestServer, EMAIL, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target_dir() -> PathBuf {
    let base =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    base.join("sdk-rust")
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

async fn generate(url: &str, out: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_basalt"));
    cmd.args(["sdk", "generate", "--lang", "rust", "--url", url, "--out"])
        .arg(out)
        .env("BASALT_SUPERUSER_EMAIL", EMAIL)
        .env("BASALT_SUPERUSER_PASSWORD", PASSWORD);
    run(cmd).await
}

fn cargo(args: &[&str], manifest: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args)
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTC_WRAPPER");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A crate for the example app that depends on the generated client next to it.
fn write_app(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        r#"[package]
name = "sdk-example-app"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
basalt-client = { path = "../client" }
serde_json = "1"
tokio = { version = "1", features = ["macros", "rt-multi-thread", "time"] }

[workspace]
"#,
    )
    .unwrap();
    std::fs::copy(
        repo().join("sdk/rust/example/main.rs"),
        dir.join("src/main.rs"),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_rust_client_builds_runs_the_example_app_and_breaks_it_when_a_field_goes() {
    let server = TestServer::start().await;
    let defs: Value =
        serde_json::from_str(include_str!("../../../sdk/fixture/collections.json")).unwrap();
    for def in defs.as_array().unwrap() {
        server.create_collection(def.clone()).await;
    }
    let batch = json!({"batch": {"enabled": true, "maxRequests": 50, "timeout": 3}});
    let (status, body) = server
        .call(Method::PATCH, "/api/settings", Some(batch))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let work = tempfile::tempdir().unwrap();
    let client = work.path().join("client");
    let out = generate(&server.url, &client).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in [
        "Cargo.toml",
        "src/lib.rs",
        "src/realtime.rs",
        "src/runtime.rs",
    ] {
        let committed =
            std::fs::read_to_string(repo().join("sdk/fixture/generated/rust").join(f)).unwrap();
        let generated = std::fs::read_to_string(client.join(f)).unwrap();
        assert!(
            committed == generated,
            "{f} differs from sdk/fixture/generated/rust/{f}"
        );
    }

    // The client and the app build without a warning, and the app runs its scenario.
    let app = work.path().join("app");
    write_app(&app);
    let manifest = app.join("Cargo.toml");
    let build = run(cargo(&["build", "--color", "never"], &manifest)).await;
    let stderr = text(&build.stderr);
    assert!(build.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let mut app_cmd = Command::new(target_dir().join("debug/sdk-example-app"));
    app_cmd.env("BASALT_URL", &server.url);
    let ran = run(app_cmd).await;
    assert!(
        ran.status.success(),
        "{}{}",
        text(&ran.stdout),
        text(&ran.stderr)
    );
    let report: Value = serde_json::from_str(text(&ran.stdout).trim()).unwrap();
    assert_eq!(report["wrongPasswordStatus"], 400);
    assert_eq!(report["realtimeAction"], "create");
    assert_eq!(report["batch"], 2);
    assert_eq!(report["deleted"], true);
    assert!(report["searchHits"].as_i64().unwrap() >= 1);
    assert!(report["cover"].as_str().unwrap().ends_with(".txt"));

    // Remove `views`, regenerate: the app, which reads and writes it, no longer compiles.
    let (_, posts) = server
        .call(Method::GET, "/api/collections/posts", None)
        .await;
    let fields: Vec<Value> = posts["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] != "views")
        .cloned()
        .collect();
    let (status, body) = server
        .call(
            Method::PATCH,
            "/api/collections/posts",
            Some(json!({"fields": fields})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let out = generate(&server.url, &client).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lib = std::fs::read_to_string(client.join("src/lib.rs")).unwrap();
    assert!(!lib.contains("views"));
    let broken = run(cargo(&["build", "--color", "never"], &manifest)).await;
    let stderr = text(&broken.stderr);
    assert!(
        !broken.status.success(),
        "the app still compiles without `views`"
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error[")).collect();
    assert!(!errors.is_empty(), "{stderr}");
    for e in &errors {
        assert!(
            e.contains("views") && (e.starts_with("error[E0560]") || e.starts_with("error[E0609]")),
            "unexpected error: {e}\n{stderr}"
        );
    }
    assert!(stderr.contains("src/main.rs"), "{stderr}");
    server.shutdown().await;
}
