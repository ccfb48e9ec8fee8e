//! A user's personal data: export everything tied to an auth record, then purge it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

async fn schema(s: &TestServer) {
    s.create_collection(json!({
        "name": "members", "type": "auth",
        "fields": [{"name": "nick", "type": "text"}, {"name": "secret", "type": "text", "hidden": true}],
        "createRule": "", "listRule": "", "viewRule": "",
    }))
    .await;
    let members = s
        .call(Method::GET, "/api/collections/members", None)
        .await
        .1["id"]
        .clone();
    s.create_collection(json!({
        "name": "posts", "type": "base",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "author", "type": "relation", "collectionId": members, "maxSelect": 1, "cascadeDelete": true},
        ],
    }))
    .await;
    s.create_collection(json!({
        "name": "groups", "type": "base",
        "fields": [
            {"name": "name", "type": "text"},
            {"name": "people", "type": "relation", "collectionId": members, "maxSelect": 10},
        ],
    }))
    .await;
}

async fn member(s: &TestServer, email: &str, nick: &str) -> String {
    let body = s
        .create_record(
            "members",
            json!({"email": email, "nick": nick, "secret": "s3", "password": "password123", "passwordConfirm": "password123"}),
        )
        .await;
    body["id"].as_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<&str> {
    let mut v: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn export_then_purge_a_user_with_what_they_own() {
    let s = TestServer::start().await;
    schema(&s).await;
    let ann = member(&s, "ann@example.com", "ann").await;
    let bob = member(&s, "bob@example.com", "bob").await;
    let p1 = s
        .create_record("posts", json!({"title": "ann 1", "author": ann}))
        .await;
    let p2 = s
        .create_record("posts", json!({"title": "ann 2", "author": ann}))
        .await;
    let pb = s
        .create_record("posts", json!({"title": "bob", "author": bob}))
        .await;
    let g = s
        .create_record("groups", json!({"name": "both", "people": [ann, bob]}))
        .await;
    let (status, link) = s
        .call(
            Method::POST,
            "/api/roles/links",
            Some(json!({"role": "editors", "collection": "members", "record": ann})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{link}");

    // Only superusers.
    let path = format!("/api/collections/members/records/{ann}/export");
    let (status, body) = s.call_as(None, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let ann_token = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/members/auth-with-password",
            Some(json!({"identity": "ann@example.com", "password": "password123"})),
        )
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = s.call_as(Some(&ann_token), Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let purge = format!("/api/collections/members/records/{ann}/purge");
    let (status, _) = s
        .call_as(Some(&ann_token), Method::POST, &purge, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The export: the record with hidden fields and email, what a delete would take.
    let resp = s
        .client
        .get(format!("{}{path}", s.url))
        .header("Authorization", &s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"members-{ann}.json\"")
    );
    let export: Value = resp.json().await.unwrap();
    assert_eq!(export["record"]["id"], ann.as_str());
    assert_eq!(export["record"]["email"], "ann@example.com");
    assert_eq!(export["record"]["secret"], "s3");
    assert!(export["record"].get("password").is_none());
    assert!(export["record"].get("tokenKey").is_none());
    let posts = &export["related"]["posts"];
    assert_eq!(ids(posts), {
        let mut v = vec![p1["id"].as_str().unwrap(), p2["id"].as_str().unwrap()];
        v.sort();
        v
    });
    assert!(posts
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["@purge"] == "delete"));
    assert_eq!(export["related"]["groups"][0]["id"], g["id"]);
    assert_eq!(export["related"]["groups"][0]["@purge"], "unlink");
    assert_eq!(export["related"]["_roles"][0]["id"], link["id"]);
    // Nothing was changed by exporting; the email finds the same user.
    let by_email = s
        .call(
            Method::GET,
            "/api/collections/members/records/ann@example.com/export",
            None,
        )
        .await;
    assert_eq!(by_email.0, StatusCode::OK);
    assert_eq!(by_email.1["record"]["id"], ann.as_str());

    // Errors: unknown user, a base collection, an unknown collection.
    for (p, code) in [
        (
            "/api/collections/members/records/nobody123456789/export",
            404,
        ),
        (
            &format!(
                "/api/collections/posts/records/{}/export",
                p1["id"].as_str().unwrap()
            )[..],
            400,
        ),
        ("/api/collections/nope/records/x/export", 404),
    ] {
        let (status, body) = s.call(Method::GET, p, None).await;
        assert_eq!(status.as_u16(), code, "{p}: {body}");
        assert_eq!(body["status"], code);
    }

    // Purge: the answer is the export; then ann and her posts are gone, the group
    // keeps bob only, and bob's post is untouched.
    let (status, purged) = s.call(Method::POST, &purge, None).await;
    assert_eq!(status, StatusCode::OK, "{purged}");
    assert_eq!(purged["record"]["id"], ann.as_str());
    assert_eq!(purged["related"]["posts"].as_array().unwrap().len(), 2);
    let (status, _) = s
        .call(
            Method::GET,
            &format!("/api/collections/members/records/{ann}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for p in [&p1, &p2] {
        let (status, _) = s
            .call(
                Method::GET,
                &format!(
                    "/api/collections/posts/records/{}",
                    p["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = s
        .call(
            Method::GET,
            &format!(
                "/api/collections/posts/records/{}",
                pb["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, group) = s
        .call(
            Method::GET,
            &format!(
                "/api/collections/groups/records/{}",
                g["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(group["people"], json!([bob]));
    // The role assignment went with her.
    let (status, _) = s
        .call(
            Method::GET,
            &format!(
                "/api/collections/_roles/records/{}",
                link["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Her old token no longer works, and a second purge is a 404.
    let (status, _) = s
        .call_as(
            Some(&ann_token),
            Method::POST,
            "/api/collections/members/auth-refresh",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s.call(Method::POST, &purge, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_basalt"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("BASALT_DIR")
        .env_remove("BASALT_CONFIG")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_cli_exports_and_purges_with_the_server_stopped() {
    let s = TestServer::start().await;
    schema(&s).await;
    let ann = member(&s, "ann@example.com", "ann").await;
    let post = s
        .create_record("posts", json!({"title": "t", "author": ann}))
        .await;
    let dir = s.shutdown().await;
    let dir = dir.path();

    let out = cli(dir, &["user", "export", "members", "ann@example.com"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let export: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(export["record"]["id"], ann.as_str());
    assert_eq!(export["related"]["posts"][0]["id"], post["id"]);

    // Purging needs --yes; without it nothing changes.
    let out = cli(dir, &["user", "purge", "members", &ann]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let file = dir.join("ann.json");
    let out = cli(
        dir,
        &[
            "user",
            "purge",
            "members",
            &ann,
            "--yes",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["record"]["email"], "ann@example.com");

    for (args, says) in [
        (vec!["user", "export", "members", ann.as_str()], "no record"),
        (vec!["user", "export", "nope", "x"], "nope"),
        (
            vec!["user", "export", "posts", "x"],
            "not an auth collection",
        ),
    ] {
        let out = cli(dir, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }

    // The server comes back without them.
    let s = TestServer::start_with(|c| c.dir = dir.to_path_buf()).await;
    let (status, _) = s
        .call(
            Method::GET,
            &format!(
                "/api/collections/posts/records/{}",
                post["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
