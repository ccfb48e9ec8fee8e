use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::kit::{TestServer, EMAIL};

#[tokio::test]
async fn superuser_auth_refresh_and_bearer_tokens() {
    let s = TestServer::start().await;
    let (status, body) = s
        .call(
            Method::POST,
            "/api/collections/_superusers/auth-refresh",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["record"]["email"], EMAIL);
    assert!(body["record"].get("password").is_none());
    assert!(body["record"].get("tokenKey").is_none());
    let bearer = format!("Bearer {}", s.token);
    let (status, _) = s
        .call_as(Some(&bearer), Method::GET, "/api/collections", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_identity_look_the_same() {
    let s = TestServer::start().await;
    let path = "/api/collections/_superusers/auth-with-password";
    let (a, body_a) = s
        .call_as(
            None,
            Method::POST,
            path,
            Some(json!({"identity": EMAIL, "password": "nope-nope"})),
        )
        .await;
    let (b, body_b) = s
        .call_as(
            None,
            Method::POST,
            path,
            Some(json!({"identity": "x@y.z", "password": "nope-nope"})),
        )
        .await;
    assert_eq!(a, StatusCode::BAD_REQUEST);
    assert_eq!(b, StatusCode::BAD_REQUEST);
    assert_eq!(body_a, body_b);
    assert_eq!(body_a["message"], "Failed to authenticate.");
}

#[tokio::test]
async fn guests_and_bad_tokens_cannot_manage_collections() {
    let s = TestServer::start().await;
    let (status, body) = s.call_as(None, Method::GET, "/api/collections", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], 401);
    let (status, _) = s
        .call_as(
            Some("garbage.token.here"),
            Method::GET,
            "/api/collections",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_cors_and_unknown_routes() {
    let s = TestServer::start().await;
    let (status, body) = s.call_as(None, Method::GET, "/api/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "API is healthy.");
    let resp = s
        .client
        .request(Method::OPTIONS, format!("{}/api/collections", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let (status, body) = s.call_as(None, Method::GET, "/api/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);
    assert!(body["data"].is_object());
}
