//! Durability, end to end: the real `basalt serve` binary takes concurrent creates over
//! HTTP and is killed with SIGKILL at a random moment; after a restart on the same data
//! directory, every create that was acknowledged with 200 must be there, and the
//! directory must open. Repeated over several rounds on one directory.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
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

fn start(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args(["serve", "--http", &format!("127.0.0.1:{port}"), "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client
            .get(format!("{url}/api/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become healthy");
}

async fn login(client: &reqwest::Client, url: &str) -> String {
    let body: Value = client
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
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_creates_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args(["superuser", "upsert", EMAIL, PASSWORD, "--dir"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let client = reqwest::Client::new();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    for round in 0..4u64 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = start(dir.path(), port);
        wait_healthy(&client, &url).await;
        let token = login(&client, &url).await;
        if round == 0 {
            let resp = client
                .post(format!("{url}/api/collections"))
                .header("Authorization", &token)
                .json(&json!({"name": "items", "fields": [{"name": "n", "type": "number"}]}))
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success());
        }
        let mut writers = Vec::new();
        for w in 0..16u64 {
            let (client, url, token, acked) =
                (client.clone(), url.clone(), token.clone(), acked.clone());
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let resp = client
                        .post(format!("{url}/api/collections/items/records"))
                        .header("Authorization", &token)
                        .json(&json!({"n": round * 1_000_000 + w * 10_000 + i}))
                        .send()
                        .await;
                    let Ok(resp) = resp else { break };
                    if !resp.status().is_success() {
                        break;
                    }
                    let Ok(body) = resp.json::<Value>().await else {
                        break;
                    };
                    acked
                        .lock()
                        .unwrap()
                        .push(body["id"].as_str().unwrap().to_owned());
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300 + round * 170)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for w in writers {
            let _ = w.await;
        }

        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = start(dir.path(), port);
        wait_healthy(&client, &url).await;
        let token = login(&client, &url).await;
        let ids = acked.lock().unwrap().clone();
        for id in &ids {
            let resp = client
                .get(format!("{url}/api/collections/items/records/{id}"))
                .header("Authorization", &token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                resp.status(),
                200,
                "round {round}: acknowledged record {id} was lost"
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!ids.is_empty(), "round {round}: no create was acknowledged");
    }
}
