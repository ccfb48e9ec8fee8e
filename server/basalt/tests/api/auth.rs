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

async fn users_collection(s: &TestServer, extra: serde_json::Value) {
    let mut def = json!({
        "name": "users", "type": "auth",
        "fields": [{"name": "username", "type": "text"}, {"name": "name", "type": "text"}],
        "createRule": "", "listRule": "", "viewRule": "",
        "updateRule": "id = @request.auth.id", "deleteRule": null,
    });
    for (k, v) in extra.as_object().unwrap() {
        def[k] = v.clone();
    }
    s.create_collection(def).await;
}

async fn signup(s: &TestServer, email: &str, username: &str) -> serde_json::Value {
    let (status, body) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/records",
            Some(json!({"email": email, "username": username, "password": "password123", "passwordConfirm": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn login(s: &TestServer, identity: &str, password: &str) -> (StatusCode, serde_json::Value) {
    s.call_as(
        None,
        Method::POST,
        "/api/collections/users/auth-with-password",
        Some(json!({"identity": identity, "password": password})),
    )
    .await
}

#[tokio::test]
async fn auth_rule_identity_fields_and_auth_methods_follow_the_collection() {
    let s = TestServer::start().await;
    users_collection(
        &s,
        json!({
            "authRule": "verified = true",
            "passwordAuth": {"enabled": true, "identityFields": ["email", "username"]},
            "indexes": ["CREATE UNIQUE INDEX idx_users_username ON users (username)"],
        }),
    )
    .await;
    let user = signup(&s, "carol@example.com", "carol").await;
    // valid credentials, but the auth rule wants a verified account
    let (status, body) = login(&s, "carol", "password123").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let path = format!(
        "/api/collections/users/records/{}",
        user["id"].as_str().unwrap()
    );
    let (status, _) = s
        .call(Method::PATCH, &path, Some(json!({"verified": true})))
        .await;
    assert_eq!(status, StatusCode::OK);
    for identity in ["carol", "carol@example.com"] {
        let (status, body) = login(&s, identity, "password123").await;
        assert_eq!(status, StatusCode::OK, "{identity}: {body}");
    }
    let (status, methods) = s
        .call_as(
            None,
            Method::GET,
            "/api/collections/users/auth-methods",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        methods["password"]["identityFields"],
        json!(["email", "username"])
    );
    assert_eq!(methods["otp"]["enabled"], false);
    s.shutdown().await;
}

#[tokio::test]
async fn password_change_needs_the_old_password_and_revokes_old_tokens() {
    let s = TestServer::start().await;
    users_collection(&s, json!({})).await;
    let user = signup(&s, "dan@example.com", "dan").await;
    let (_, auth) = login(&s, "dan@example.com", "password123").await;
    let token = auth["token"].as_str().unwrap().to_owned();
    let path = format!(
        "/api/collections/users/records/{}",
        user["id"].as_str().unwrap()
    );
    let change = |old: &str| json!({"password": "newpassword1", "passwordConfirm": "newpassword1", "oldPassword": old});
    let (status, body) = s
        .call_as(
            Some(&token),
            Method::PATCH,
            &path,
            Some(change("wrong-one")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["data"]["oldPassword"]["code"],
        "validation_invalid_old_password"
    );
    let (status, body) = s
        .call_as(
            Some(&token),
            Method::PATCH,
            &path,
            Some(change("password123")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // the old token no longer authenticates; the new password does
    let (status, _) = s
        .call_as(
            Some(&token),
            Method::POST,
            "/api/collections/users/auth-refresh",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&s, "dan@example.com", "password123").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login(&s, "dan@example.com", "newpassword1").await.0,
        StatusCode::OK
    );
    s.shutdown().await;
}

#[tokio::test]
async fn manage_rule_lets_managers_change_email_and_verified() {
    let s = TestServer::start().await;
    users_collection(
        &s,
        json!({"manageRule": "@request.auth.username = 'admin'", "updateRule": "id = @request.auth.id || @request.auth.username = 'admin'"}),
    )
    .await;
    signup(&s, "admin@example.com", "admin").await;
    let user = signup(&s, "erin@example.com", "erin").await;
    let admin = login(&s, "admin@example.com", "password123").await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let erin = login(&s, "erin@example.com", "password123").await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!(
        "/api/collections/users/records/{}",
        user["id"].as_str().unwrap()
    );
    let (status, body) = s
        .call_as(
            Some(&erin),
            Method::PATCH,
            &path,
            Some(json!({"verified": true})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "owners cannot verify themselves: {body}"
    );
    let (status, body) = s
        .call_as(Some(&admin), Method::PATCH, &path, Some(json!({"verified": true, "password": "resetpass1", "passwordConfirm": "resetpass1"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verified"], true);
    assert_eq!(
        login(&s, "erin@example.com", "resetpass1").await.0,
        StatusCode::OK
    );
    s.shutdown().await;
}

#[tokio::test]
async fn impersonation_is_superuser_only_and_not_refreshable() {
    let s = TestServer::start().await;
    users_collection(&s, json!({})).await;
    let user = signup(&s, "fay@example.com", "fay").await;
    let fay = login(&s, "fay", "password123").await;
    assert_eq!(
        fay.0,
        StatusCode::BAD_REQUEST,
        "username is not an identity field by default"
    );
    let fay = login(&s, "fay@example.com", "password123").await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!(
        "/api/collections/users/impersonate/{}",
        user["id"].as_str().unwrap()
    );
    let (status, _) = s
        .call_as(Some(&fay), Method::POST, &path, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s
        .call(Method::POST, &path, Some(json!({"duration": 60})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["record"]["email"], "fay@example.com");
    let token = body["token"].as_str().unwrap();
    let me = format!(
        "/api/collections/users/records/{}",
        user["id"].as_str().unwrap()
    );
    let (status, _) = s
        .call_as(Some(token), Method::PATCH, &me, Some(json!({"name": "F"})))
        .await;
    assert_eq!(status, StatusCode::OK, "the token acts as the user");
    let (status, _) = s
        .call_as(
            Some(token),
            Method::POST,
            "/api/collections/users/auth-refresh",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .call(Method::POST, &path, Some(json!({"duration": -5})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

#[tokio::test]
async fn a_reused_token_sees_its_record_and_collection_change() {
    let s = TestServer::start().await;
    users_collection(&s, json!({})).await;
    let user = signup(&s, "erin@example.com", "erin").await;
    let (_, auth) = login(&s, "erin@example.com", "password123").await;
    let token = auth["token"].as_str().unwrap().to_owned();
    s.create_collection(json!({
        "name": "vip_notes", "fields": [{"name": "title", "type": "text"}],
        "listRule": "@request.auth.name = 'vip'",
    }))
    .await;
    s.create_record("vip_notes", json!({"title": "hello"}))
        .await;
    let list = |t: String| {
        let s = &s;
        async move {
            let (status, body) = s
                .call_as(
                    Some(&t),
                    Method::GET,
                    "/api/collections/vip_notes/records",
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["totalItems"].as_i64().unwrap()
        }
    };
    // The token is resolved (and kept) twice before the record changes.
    assert_eq!(list(token.clone()).await, 0);
    assert_eq!(list(token.clone()).await, 0);
    let path = format!(
        "/api/collections/users/records/{}",
        user["id"].as_str().unwrap()
    );
    let (status, _) = s
        .call(Method::PATCH, &path, Some(json!({"name": "vip"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list(token.clone()).await, 1);
    // A schema change to the auth collection: the rule now reads a new field.
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/users",
            Some(json!({"fields": [
                {"name": "username", "type": "text"}, {"name": "name", "type": "text"},
                {"name": "level", "type": "number"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = s
        .call(
            Method::PATCH,
            "/api/collections/vip_notes",
            Some(json!({"listRule": "@request.auth.level > 1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list(token.clone()).await, 0);
    let (status, _) = s
        .call(Method::PATCH, &path, Some(json!({"level": 2})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list(token.clone()).await, 1);
    // Deleting the user: the token is a guest's, who the rule lets see nothing.
    let (status, _) = s.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(list(token).await, 0);
    s.shutdown().await;
}
