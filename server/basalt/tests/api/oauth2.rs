//! OAuth2 login and MFA against a fake OpenID Connect provider served on loopback.
//! The fake checks the client credentials, the redirect URI and the PKCE verifier
//! against the challenge the user "consented" with, and hands out single-use codes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use poem::web::{Data, Form, Json};
use poem::{handler, post, EndpointExt, Request, Route};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

const CLIENT_ID: &str = "fake-client";
const CLIENT_SECRET: &str = "fake-secret";
const REDIRECT: &str = "http://127.0.0.1/callback";

#[derive(Clone)]
struct Grant {
    challenge: String,
    user: Value,
}

#[derive(Clone, Default)]
struct FakeState {
    codes: Arc<Mutex<HashMap<String, Grant>>>,
    tokens: Arc<Mutex<HashMap<String, Value>>>,
}

struct FakeProvider {
    url: String,
    state: FakeState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[handler]
fn token(
    Data(state): Data<&FakeState>,
    Form(form): Form<HashMap<String, String>>,
) -> (poem::http::StatusCode, Json<Value>) {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let refuse = |why: &str| {
        (
            poem::http::StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": why})),
        )
    };
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return refuse("bad client");
    }
    if field("grant_type") != "authorization_code" || field("redirect_uri") != REDIRECT {
        return refuse("bad grant or redirect");
    }
    let Some(grant) = state.codes.lock().unwrap().remove(&field("code")) else {
        return refuse("unknown code");
    };
    if basalt_core::service::pkce_s256(&field("code_verifier")) != grant.challenge {
        return refuse("pkce verifier mismatch");
    }
    let access = format!("at-{}", basalt_core::ids::new_id());
    state
        .tokens
        .lock()
        .unwrap()
        .insert(access.clone(), grant.user);
    (
        poem::http::StatusCode::OK,
        Json(
            json!({"access_token": access, "refresh_token": "rt", "expires_in": 3600, "token_type": "Bearer"}),
        ),
    )
}

#[handler]
fn userinfo(Data(state): Data<&FakeState>, req: &Request) -> (poem::http::StatusCode, Json<Value>) {
    let bearer = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    match state.tokens.lock().unwrap().get(bearer) {
        Some(user) => (poem::http::StatusCode::OK, Json(user.clone())),
        None => (poem::http::StatusCode::UNAUTHORIZED, Json(json!({}))),
    }
}

impl FakeProvider {
    async fn start() -> FakeProvider {
        let state = FakeState::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Route::new()
            .at("/token", post(token))
            .at("/userinfo", poem::get(userinfo))
            .data(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async {
                        let _ = stopped.await;
                    },
                    None,
                )
                .await;
        });
        FakeProvider {
            url,
            state,
            stop: Some(stop),
        }
    }

    /// The user consents: a fresh code bound to the client's PKCE challenge.
    fn consent(&self, challenge: &str, user: Value) -> String {
        let code = format!("code-{}", basalt_core::ids::new_id());
        self.state.codes.lock().unwrap().insert(
            code.clone(),
            Grant {
                challenge: challenge.to_owned(),
                user,
            },
        );
        code
    }

    fn config(&self) -> Value {
        json!({
            "name": "oidc", "displayName": "Fake ID", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
            "authURL": format!("{}/auth", self.url), "tokenURL": format!("{}/token", self.url),
            "userInfoURL": format!("{}/userinfo", self.url),
        })
    }
}

async fn users(s: &TestServer, fake: &FakeProvider, extra: Value) {
    let mut def = json!({
        "name": "users", "type": "auth",
        "fields": [{"name": "name", "type": "text"}],
        "createRule": "", "listRule": "", "viewRule": "",
        "oauth2": {"enabled": true, "providers": [fake.config()], "mappedFields": {"name": "name"}},
    });
    for (k, v) in extra.as_object().unwrap() {
        def[k] = v.clone();
    }
    s.create_collection(def).await;
}

fn person(sub: &str, email: &str, verified: bool) -> Value {
    json!({"sub": sub, "name": format!("Person {sub}"), "email": email, "email_verified": verified})
}

/// auth-methods → consent at the fake → auth-with-oauth2, as the SDK does it.
async fn login(
    s: &TestServer,
    fake: &FakeProvider,
    user: Value,
    extra: Value,
) -> (StatusCode, Value) {
    let (_, methods) = s
        .call_as(
            None,
            Method::GET,
            "/api/collections/users/auth-methods",
            None,
        )
        .await;
    let provider = &methods["oauth2"]["providers"][0];
    let code = fake.consent(provider["codeChallenge"].as_str().unwrap(), user);
    let mut body = json!({
        "provider": "oidc", "code": code,
        "codeVerifier": provider["codeVerifier"], "redirectURL": REDIRECT,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    s.call_as(
        None,
        Method::POST,
        "/api/collections/users/auth-with-oauth2",
        Some(body),
    )
    .await
}

async fn external_auths(s: &TestServer) -> Value {
    let (status, body) = s
        .call(Method::GET, "/api/collections/_externalAuths/records", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].clone()
}

#[tokio::test]
async fn oauth2_signs_up_then_maps_later_logins_to_the_same_record() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    users(&s, &fake, json!({})).await;
    let (status, first) = login(&s, &fake, person("u1", "ann@example.com", true), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(first["token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(first["record"]["email"], "ann@example.com");
    assert_eq!(first["record"]["verified"], true);
    assert_eq!(first["record"]["name"], "Person u1");
    let meta = &first["meta"];
    assert_eq!(meta["isNew"], true);
    assert_eq!(meta["id"], "u1");
    assert_eq!(meta["email"], "ann@example.com");
    assert_eq!(meta["refreshToken"], "rt");
    assert!(meta["accessToken"].as_str().unwrap().starts_with("at-"));
    assert!(meta["expiry"].as_str().is_some_and(|e| !e.is_empty()));
    assert_eq!(meta["rawUser"]["sub"], "u1");

    // The provider changed the email: the link, not the email, decides.
    let (status, second) = login(
        &s,
        &fake,
        person("u1", "ann@elsewhere.org", true),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["record"]["id"], first["record"]["id"]);
    assert_eq!(second["meta"]["isNew"], false);
    let links = external_auths(&s).await;
    assert_eq!(links.as_array().unwrap().len(), 1);
    assert_eq!(links[0]["provider"], "oidc");
    assert_eq!(links[0]["providerId"], "u1");
    assert_eq!(links[0]["recordRef"], first["record"]["id"]);

    // The token works like any other.
    let (status, refreshed) = s
        .call_as(
            first["token"].as_str(),
            Method::POST,
            "/api/collections/users/auth-refresh",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
}

#[tokio::test]
async fn oauth2_links_a_verified_email_and_resets_an_unverified_accounts_password() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    users(&s, &fake, json!({})).await;
    // Someone registered the address first, with a password of their own.
    let squatter = s
        .create_record(
            "users",
            json!({"email": "bob@example.com", "password": "squatter123", "passwordConfirm": "squatter123"}),
        )
        .await;
    let (status, body) = login(&s, &fake, person("b1", "bob@example.com", true), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["record"]["id"], squatter["id"]);
    assert_eq!(body["record"]["verified"], true);
    assert_eq!(body["meta"]["isNew"], false);
    let (status, _) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/auth-with-password",
            Some(json!({"identity": "bob@example.com", "password": "squatter123"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the pre-registered password must stop working"
    );
}

#[tokio::test]
async fn oauth2_never_links_an_unverified_email() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    users(&s, &fake, json!({})).await;
    let victim = s
        .create_record(
            "users",
            json!({"email": "vic@example.com", "password": "victim1234", "passwordConfirm": "victim1234"}),
        )
        .await;
    let (status, body) = login(
        &s,
        &fake,
        person("evil", "vic@example.com", false),
        json!({}),
    )
    .await;
    // The unverified email is dropped; the collection requires an email, so no account.
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_ne!(body["record"]["id"], victim["id"]);
    assert!(external_auths(&s).await.as_array().unwrap().is_empty());
    let (status, _) = s
        .call_as(
            None,
            Method::POST,
            "/api/collections/users/auth-with-password",
            Some(json!({"identity": "vic@example.com", "password": "victim1234"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the victim's account is untouched");

    // With an optional email, the unverified user gets a separate account without it.
    let (_, mut def) = s.call(Method::GET, "/api/collections/users", None).await;
    for f in def["fields"].as_array_mut().unwrap() {
        if f["name"] == "email" {
            f["required"] = json!(false);
        }
    }
    let fields = json!({"fields": def["fields"]});
    let (status, body) = s
        .call(Method::PATCH, "/api/collections/users", Some(fields))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = login(
        &s,
        &fake,
        person("evil", "vic@example.com", false),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["record"]["id"], victim["id"]);
    assert_eq!(body["record"]["email"], "");
    assert_eq!(body["meta"]["email"], "");
}

#[tokio::test]
async fn oauth2_signup_goes_through_the_create_rule_and_the_auth_rule() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    users(&s, &fake, json!({"createRule": null})).await;
    let (status, body) = login(&s, &fake, person("c1", "c1@example.com", true), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let rule = |r: &str| json!({"createRule": r});
    s.call(
        Method::PATCH,
        "/api/collections/users",
        Some(rule("@request.context != 'oauth2'")),
    )
    .await;
    let (status, body) = login(&s, &fake, person("c1", "c1@example.com", true), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(external_auths(&s).await.as_array().unwrap().is_empty());

    s.call(
        Method::PATCH,
        "/api/collections/users",
        Some(rule(
            "@request.context = 'oauth2' && @request.body.name != 'blocked'",
        )),
    )
    .await;
    let blocked = json!({"createData": {"name": "blocked"}});
    let (status, _) = login(&s, &fake, person("c1", "c1@example.com", true), blocked).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let named = json!({"createData": {"name": "Chosen", "email": "ignored@example.com"}});
    let (status, body) = login(&s, &fake, person("c1", "c1@example.com", true), named).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["record"]["name"], "Chosen",
        "createData wins over mapped fields"
    );
    assert_eq!(
        body["record"]["email"], "c1@example.com",
        "the provider email wins"
    );

    s.call(
        Method::PATCH,
        "/api/collections/users",
        Some(json!({"authRule": null})),
    )
    .await;
    let (status, body) = login(&s, &fake, person("c1", "c1@example.com", true), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn oauth2_bad_input_and_provider_failures_are_client_errors() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    users(&s, &fake, json!({})).await;
    let path = "/api/collections/users/auth-with-oauth2";
    let post = |body: Value| s.call_as(None, Method::POST, path, Some(body));

    let (status, body) =
        post(json!({"provider": "nope", "code": "x", "redirectURL": REDIRECT})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["data"]["provider"]["code"],
        "validation_invalid_provider"
    );
    let (status, body) = post(json!({"provider": "oidc"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["data"]["code"]["code"], "validation_required");
    assert_eq!(body["data"]["redirectURL"]["code"], "validation_required");
    let (status, _) =
        post(json!({"provider": "oidc", "code": "x", "redirectURL": REDIRECT, "createData": 3}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A code the provider does not know, and a wrong PKCE verifier.
    let (status, body) = post(
        json!({"provider": "oidc", "code": "forged", "codeVerifier": "v", "redirectURL": REDIRECT}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Failed to fetch OAuth2 token.");
    let code = fake.consent(
        &basalt_core::service::pkce_s256("right"),
        person("p", "p@x.io", true),
    );
    let (status, _) = post(
        json!({"provider": "oidc", "code": code, "codeVerifier": "wrong", "redirectURL": REDIRECT}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A wrong client secret, then an unreachable provider.
    let mut wrong = fake.config();
    wrong["clientSecret"] = json!("not-the-secret");
    s.call(
        Method::PATCH,
        "/api/collections/users",
        Some(json!({"oauth2": {"providers": [wrong]}})),
    )
    .await;
    let (status, _) = login(&s, &fake, person("p", "p@x.io", true), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut gone = fake.config();
    gone["tokenURL"] = json!(format!("{dead}/token"));
    s.call(
        Method::PATCH,
        "/api/collections/users",
        Some(json!({"oauth2": {"providers": [gone]}})),
    )
    .await;
    let (status, body) = login(&s, &fake, person("p", "p@x.io", true), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // OAuth2 switched off for the collection (PocketBase answers 403).
    s.call(
        Method::PATCH,
        "/api/collections/users",
        Some(json!({"oauth2": {"enabled": false}})),
    )
    .await;
    let (status, body) =
        post(json!({"provider": "oidc", "code": "x", "redirectURL": REDIRECT})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, methods) = s
        .call_as(
            None,
            Method::GET,
            "/api/collections/users/auth-methods",
            None,
        )
        .await;
    assert_eq!(
        methods["oauth2"],
        json!({"enabled": false, "providers": []})
    );
}

#[tokio::test]
async fn auth_methods_lists_providers_and_client_secrets_are_write_only() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    let def = json!({
        "name": "users", "type": "auth", "createRule": "",
        "oauth2": {"enabled": true, "providers": [fake.config(), {"name": "github", "clientId": "gh", "clientSecret": "gh-secret"}]},
    });
    let (status, created) = s.call(Method::POST, "/api/collections", Some(def)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (_, one) = s.call(Method::GET, "/api/collections/users", None).await;
    let (_, all) = s
        .call(Method::GET, "/api/collections?perPage=500", None)
        .await;
    for body in [&created, &one, &all] {
        let text = body.to_string();
        assert!(
            !text.contains(CLIENT_SECRET) && !text.contains("gh-secret"),
            "{text}"
        );
    }
    assert_eq!(one["oauth2"]["providers"][0]["clientId"], CLIENT_ID);

    let (status, methods) = s
        .call_as(
            None,
            Method::GET,
            "/api/collections/users/auth-methods",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!methods.to_string().contains("secret"));
    assert_eq!(methods["oauth2"]["enabled"], true);
    let providers = methods["oauth2"]["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 2);
    let fake_info = &providers[0];
    assert_eq!(fake_info["name"], "oidc");
    assert_eq!(fake_info["displayName"], "Fake ID");
    assert_eq!(fake_info["codeChallengeMethod"], "S256");
    assert_eq!(fake_info["codeVerifier"].as_str().unwrap().len(), 43);
    assert_eq!(
        fake_info["codeChallenge"],
        basalt_core::service::pkce_s256(fake_info["codeVerifier"].as_str().unwrap())
    );
    let url = fake_info["authURL"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/auth?", fake.url)), "{url}");
    assert!(url.ends_with("&redirect_uri="), "{url}");
    assert!(url.contains("client_id=fake-client"), "{url}");
    assert!(url.contains(&format!("state={}", fake_info["state"].as_str().unwrap())));
    assert!(url.contains("code_challenge_method=S256") && url.contains("response_type=code"));
    assert_eq!(providers[1]["displayName"], "GitHub");
    assert!(providers[1]["authURL"]
        .as_str()
        .unwrap()
        .starts_with("https://github.com/login/oauth/authorize?"));

    // Sending the providers back without secrets (as read) keeps the stored ones.
    let read_back = one["oauth2"].clone();
    let (status, _) = s
        .call(
            Method::PATCH,
            "/api/collections/users",
            Some(json!({"oauth2": read_back})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = login(&s, &fake, person("w1", "w1@example.com", true), json!({})).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the secret survived the round trip: {body}"
    );

    // A custom provider without URLs is refused when saved.
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/collections/users",
            Some(json!({"oauth2": {"providers": [{"name": "acme", "clientId": "a"}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["data"]["oauth2"]["providers"]["0"]["authURL"]["code"],
        "validation_required"
    );
}

async fn password_login(s: &TestServer, mfa_id: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"identity": "mfa@example.com", "password": "password123"});
    if let Some(id) = mfa_id {
        body["mfaId"] = json!(id);
    }
    s.call_as(
        None,
        Method::POST,
        "/api/collections/users/auth-with-password",
        Some(body),
    )
    .await
}

#[tokio::test]
async fn mfa_pairs_password_with_oauth2_and_rejects_stale_sessions() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    users(&s, &fake, json!({"mfa": {"enabled": true, "duration": 10}})).await;
    // Verified: linking an unverified account by email would reset its password.
    let user = s
        .create_record(
            "users",
            json!({"email": "mfa@example.com", "password": "password123", "passwordConfirm": "password123", "verified": true}),
        )
        .await;
    let me = person("m1", "mfa@example.com", true);

    let (status, first) = password_login(&s, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{first}");
    assert_eq!(first["status"], 401);
    let mfa_id = first["mfaId"].as_str().unwrap().to_owned();
    assert!(first.get("token").is_none());

    // The same method again does not count as a second factor; a foreign id fails.
    let (status, body) = password_login(&s, Some(&mfa_id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = password_login(&s, Some("aaaaaaaaaaaaaaa")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, done) = login(&s, &fake, me.clone(), json!({"mfaId": mfa_id})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["record"]["id"], user["id"]);
    assert!(done["token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(done["meta"].is_object());

    // Used once: the session is gone.
    let (status, _) = login(&s, &fake, me.clone(), json!({"mfaId": mfa_id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // OAuth2 first also opens a session; the password completes it.
    let (status, body) = login(&s, &fake, me.clone(), json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = password_login(&s, body["mfaId"].as_str()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A session older than `duration` is refused.
    let (_, first) = password_login(&s, None).await;
    let stale = first["mfaId"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(10_500)).await;
    let (status, body) = login(&s, &fake, me, json!({"mfaId": stale})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "Invalid or expired MFA session.");
}

#[tokio::test]
async fn mfa_rule_decides_who_needs_a_second_factor() {
    let s = TestServer::start().await;
    let fake = FakeProvider::start().await;
    users(
        &s,
        &fake,
        json!({"mfa": {"enabled": true, "rule": "name = 'admin'"}}),
    )
    .await;
    s.create_record(
        "users",
        json!({"email": "mfa@example.com", "password": "password123", "passwordConfirm": "password123"}),
    )
    .await;
    let (status, body) = password_login(&s, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, methods) = s
        .call_as(
            None,
            Method::GET,
            "/api/collections/users/auth-methods",
            None,
        )
        .await;
    assert_eq!(methods["mfa"], json!({"enabled": true, "duration": 600}));
}
