//! Backups: PocketBase's `/api/backups` shapes, consistency under continuous writes,
//! and restore (into a fresh directory, and in place through the API).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_core::Value as V;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::kit::TestServer;

async fn items(server: &TestServer, name: &str) {
    server
        .create_collection(json!({
            "name": name,
            "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
        }))
        .await;
}

/// One sequential writer creates and updates records while a backup runs. The backup
/// must equal the state after exactly some prefix of the acknowledged writes — a
/// point in time — and hold at least every write acknowledged before it was asked for.
#[tokio::test]
async fn a_backup_under_continuous_writes_restores_a_point_in_time() {
    let server = Arc::new(TestServer::start().await);
    items(&server, "ledger").await;
    for n in 0..300 {
        server
            .create_record("ledger", json!({"title": format!("t{n}"), "n": n}))
            .await;
    }
    // (id, title) of every acknowledged write, in order.
    let log = Arc::new(parking_lot::Mutex::new(Vec::<(String, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (server, log, stop) = (server.clone(), log.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i: usize = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let title = format!("w{i}");
                let known: Vec<String> = log.lock().iter().map(|(id, _)| id.clone()).collect();
                if i.is_multiple_of(3) && !known.is_empty() {
                    let id = known[(i * 7) % known.len()].clone();
                    let (status, _) = server
                        .call(
                            Method::PATCH,
                            &format!("/api/collections/ledger/records/{id}"),
                            Some(json!({"title": title})),
                        )
                        .await;
                    assert_eq!(status, StatusCode::OK);
                    log.lock().push((id, title));
                } else {
                    let r = server
                        .create_record("ledger", json!({"title": title, "n": i}))
                        .await;
                    log.lock()
                        .push((r["id"].as_str().unwrap().to_owned(), title));
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let acked_before = log.lock().len();
    let started = Instant::now();
    let (status, body) = server
        .call(
            Method::POST,
            "/api/backups",
            Some(json!({"name": "during_writes.zip"})),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let log = log.lock().clone();
    assert!(log.len() > acked_before, "writes went on during the backup");
    eprintln!(
        "backup of ~{} records took {took:?} while {} writes were acknowledged in all",
        300 + acked_before,
        log.len()
    );

    // Restore into a fresh directory with the library, as `basalt backup restore` does.
    let fresh = tempfile::tempdir().unwrap();
    let archive = server.dir().join("backups/during_writes.zip");
    let manifest = basalt::backups::stage_restore(fresh.path(), &archive).unwrap();
    assert!(basalt::backups::apply_staged_restore(fresh.path()).unwrap());
    let config = basalt::Config {
        dir: fresh.path().to_owned(),
        ..basalt::Config::default()
    };
    let services = tokio::task::spawn_blocking(move || basalt::open_services(&config))
        .await
        .unwrap()
        .unwrap();
    let ledger = services.collection("ledger").unwrap();
    let mut restored = BTreeMap::new();
    services
        .store()
        .scan(&ledger, &mut |r| {
            let title = r
                .get(&ledger, "title")
                .and_then(V::as_str)
                .unwrap_or_default()
                .to_owned();
            restored.insert(r.id().to_owned(), title);
            true
        })
        .unwrap();

    // The live state after the 300 seed records and the first k logged writes.
    let (status, seed) = server
        .call(
            Method::GET,
            "/api/collections/ledger/records?perPage=300&sort=n&filter=title~'t'",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut state: BTreeMap<String, String> = seed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["title"].as_str().unwrap().starts_with('t'))
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut matched = None;
    for k in 0..=log.len() {
        if k > 0 {
            let (id, title) = &log[k - 1];
            state.insert(id.clone(), title.clone());
        }
        if k >= acked_before && state.len() == restored.len() && state == restored {
            matched = Some(k);
            break;
        }
    }
    let k =
        matched.expect("the backup is not the state after any prefix of the acknowledged writes");
    eprintln!(
        "restored state = after {k} of {} logged writes ({} acknowledged before the backup)",
        log.len(),
        acked_before
    );
    assert!(manifest.records >= restored.len() as u64);
}

#[tokio::test]
async fn backups_api_has_pocketbase_shapes_and_is_superuser_only() {
    let server = TestServer::start().await;
    let (status, body) = server.call(Method::GET, "/api/backups", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([]));
    let (status, body) = server
        .call_as(None, Method::GET, "/api/backups", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = server
        .call(
            Method::POST,
            "/api/backups",
            Some(json!({"name": "Bad Name.zip"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["data"]["name"]["code"].is_string(), "{body}");
    let (status, _) = server
        .call(
            Method::POST,
            "/api/backups",
            Some(json!({"name": "one.zip"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server
        .call(
            Method::POST,
            "/api/backups",
            Some(json!({"name": "one.zip"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = server
        .call(Method::POST, "/api/backups", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a generated name");
    let (_, list) = server.call(Method::GET, "/api/backups", None).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let one = list.iter().find(|b| b["key"] == "one.zip").unwrap();
    assert!(
        one["size"].as_u64().unwrap() > 0 && one["modified"].as_str().unwrap().ends_with('Z'),
        "{one}"
    );
    assert!(list
        .iter()
        .any(|b| b["key"].as_str().unwrap().starts_with("pb_backup_")));

    let get = |url: String| server.client.get(url).send();
    let with_token = get(format!(
        "{}/api/backups/one.zip?token={}",
        server.url, server.token
    ))
    .await
    .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    assert_eq!(with_token.headers()["content-type"], "application/zip");
    let bytes = with_token.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    assert_eq!(bytes.len() as u64, one["size"].as_u64().unwrap());
    let forged = get(format!(
        "{}/api/backups/one.zip?token=abc.def.ghi",
        server.url
    ))
    .await
    .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let missing = get(format!(
        "{}/api/backups/none.zip?token={}",
        server.url, server.token
    ))
    .await
    .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let (status, _) = server
        .call(Method::GET, "/api/backups/..%2Fsecret", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = server
        .call(Method::DELETE, "/api/backups/one.zip", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server
        .call(Method::DELETE, "/api/backups/one.zip", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["status"], 404);
}

/// `POST /api/backups/{key}/restore` verifies, answers 204, and the server comes back on
/// the restored data on the same address (sessions survive: the secret is restored).
#[tokio::test]
async fn restore_through_the_api_restarts_on_the_restored_data() {
    let server = TestServer::start().await;
    items(&server, "notes").await;
    let keep = server
        .create_record("notes", json!({"title": "keep me"}))
        .await;
    let (status, _) = server
        .call(
            Method::POST,
            "/api/backups",
            Some(json!({"name": "before.zip"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let id = keep["id"].as_str().unwrap();
    let path = format!("/api/collections/notes/records/{id}");
    let (status, _) = server.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    server
        .create_record("notes", json!({"title": "after the backup"}))
        .await;

    // A damaged archive is refused before anything changes.
    std::fs::write(server.dir().join("backups/broken.zip"), b"PK not really").unwrap();
    let (status, body) = server
        .call(Method::POST, "/api/backups/broken.zip/restore", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = server
        .call(Method::POST, "/api/backups/before.zip/restore", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // The server restarts: a pooled connection may be closed under a request.
        let sent = server
            .client
            .get(format!("{}{path}", server.url))
            .header("Authorization", &server.token)
            .send()
            .await;
        let seen = match sent {
            Ok(resp) => format!("{}", resp.status()),
            Err(e) => format!("{e}"),
        };
        if seen.starts_with("200") {
            let (_, body) = server.call(Method::GET, &path, None).await;
            assert_eq!(body["title"], "keep me");
            break;
        }
        assert!(Instant::now() < deadline, "not restored: {seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, list) = server
        .call(Method::GET, "/api/collections/notes/records", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalItems"], 1, "{list}");
}

/// `backups.s3` on: each backup is copied to the bucket, deleting removes the copy,
/// and a bucket that cannot be reached is a clear 503 that keeps the local archive.
#[tokio::test]
async fn backups_are_copied_off_site_when_s3_is_enabled() {
    let Some((_moto, port)) = basalt_files::conformance::Moto::start("offsite") else {
        eprintln!("skipped: moto_server is not installed (pip install 'moto[server]')");
        return;
    };
    let s = TestServer::start().await;
    items(&s, "items").await;
    for i in 0..20 {
        s.create_record("items", json!({"n": i})).await;
    }
    let s3 = |endpoint: String| {
        json!({"backups": {"s3": {
            "enabled": true, "bucket": "offsite", "region": "us-east-1",
            "endpoint": endpoint, "accessKey": "test", "secret": "test", "forcePathStyle": true,
        }}})
    };
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(s3(format!("http://127.0.0.1:{port}"))),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s
        .call(
            Method::POST,
            "/api/backups",
            Some(json!({"name": "offsite.zip"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let local = std::fs::read(s.dir().join("backups").join("offsite.zip")).unwrap();
    let object = format!("http://127.0.0.1:{port}/offsite/offsite.zip");
    let remote = s.client.get(&object).send().await.unwrap();
    assert_eq!(remote.status(), StatusCode::OK);
    assert!(
        remote.bytes().await.unwrap() == local,
        "the S3 copy differs"
    );

    let (status, _) = s
        .call(Method::DELETE, "/api/backups/offsite.zip", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = s.client.get(&object).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // An unreachable bucket: the backup stays local and the error says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (status, _) = s.call(Method::PATCH, "/api/settings", Some(s3(dead))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s
        .call(
            Method::POST,
            "/api/backups",
            Some(json!({"name": "kept.zip"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("saved locally"),
        "{body}"
    );
    assert!(s.dir().join("backups").join("kept.zip").is_file());
}
