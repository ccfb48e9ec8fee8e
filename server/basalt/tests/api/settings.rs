//! App settings, rate limits and the brute-force guard of password logins.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::kit::{TestServer, EMAIL};

#[tokio::test]
async fn settings_are_superuser_only_and_secrets_write_only() {
    let s = TestServer::start().await;
    let (status, _) = s.call_as(None, Method::GET, "/api/settings", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s.call(Method::GET, "/api/settings", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["meta"]["appName"], "Basalt");
    assert_eq!(body["rateLimits"]["enabled"], false);
    let patch = json!({"meta": {"appName": "Acme"}, "smtp": {"enabled": true, "host": "127.0.0.1", "port": 2525, "password": "hunter2"}});
    let (status, body) = s.call(Method::PATCH, "/api/settings", Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["appName"], "Acme");
    assert_eq!(body["smtp"]["password"], "", "secrets are never returned");
    assert_eq!(
        body["meta"]["senderName"], "Support",
        "untouched keys keep their values"
    );
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"smtp": {"port": "x"}, "nope": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"meta": {"appURL": "ftp:nope"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["data"]["meta"]["appURL"]["code"], "validation_is_url",
        "{body}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn rate_limits_apply_per_client_and_spare_superusers() {
    let s = TestServer::start().await;
    s.create_collection(json!({"name": "notes", "fields": [{"name": "t", "type": "text"}], "createRule": "", "listRule": ""}))
        .await;
    let rules = json!({"rateLimits": {"enabled": true, "rules": [
        {"label": "*:create", "maxRequests": 2, "duration": 60},
        {"label": "/api/", "maxRequests": 1000, "duration": 10},
    ]}});
    let (status, body) = s.call(Method::PATCH, "/api/settings", Some(rules)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let path = "/api/collections/notes/records";
    for _ in 0..2 {
        let (status, _) = s
            .call_as(None, Method::POST, path, Some(json!({"t": "x"})))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", s.url))
        .json(&json!({"t": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 429);
    // lists are another action; superusers are never limited
    assert_eq!(
        s.call_as(None, Method::GET, path, None).await.0,
        StatusCode::OK
    );
    for _ in 0..3 {
        assert_eq!(
            s.call(Method::POST, path, Some(json!({"t": "su"}))).await.0,
            StatusCode::OK
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled() {
    let s = TestServer::start().await;
    let path = "/api/collections/_superusers/auth-with-password";
    for _ in 0..10 {
        let (status, _) = s
            .call_as(
                None,
                Method::POST,
                path,
                Some(json!({"identity": EMAIL, "password": "wrong-pass"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    // even the right password waits now, so guessing cannot continue
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            path,
            Some(json!({"identity": EMAIL, "password": crate::kit::PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // other identities are not affected
    let (status, _) = s
        .call_as(
            None,
            Method::POST,
            path,
            Some(json!({"identity": "other@example.com", "password": "wrong-pass"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}
