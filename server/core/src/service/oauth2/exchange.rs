//! The provider side of a login: the code-for-token exchange and the user-info reads,
//! through the [`OAuthHttp`] port. Every failure is a 400 for the client; the cause
//! is logged.

use serde_json::{Map, Value as Json};

use super::providers::{self, AuthUser, Provider};
use super::OAuth2Login;
use crate::oauth_http::{OAuthHttp, OAuthMethod, OAuthRequest};
use crate::{Error, Result};

/// What a token endpoint answered.
pub(super) struct Token {
    pub access: String,
    pub refresh: String,
    pub expiry: String,
}

/// Trades the authorization code (and PKCE verifier) for an access token.
pub(super) fn exchange_code(
    http: &dyn OAuthHttp,
    provider: &Provider,
    login: &OAuth2Login,
) -> Result<Token> {
    let fail = || Error::bad_request("Failed to fetch OAuth2 token.");
    let mut form = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), login.code.clone()),
        ("redirect_uri".to_owned(), login.redirect_url.clone()),
        ("client_id".to_owned(), provider.client_id.clone()),
        ("client_secret".to_owned(), provider.client_secret.clone()),
    ];
    if provider.pkce {
        form.push(("code_verifier".to_owned(), login.code_verifier.clone()));
    }
    let body = call(
        http,
        OAuthRequest {
            method: OAuthMethod::PostForm,
            url: provider.token_url.clone(),
            headers: vec![("Accept".into(), "application/json".into())],
            form,
        },
        &provider.name,
    )
    .ok_or_else(fail)?;
    let token = match body {
        Json::Object(m) => m,
        _ => return Err(fail()),
    };
    let field = |k: &str| {
        token
            .get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let access = field("access_token");
    if access.is_empty() {
        tracing::debug!(provider = %provider.name, error = %field("error"), "oauth2 token refused");
        return Err(fail());
    }
    let expires_in = match token.get("expires_in") {
        Some(Json::Number(n)) => n.as_i64(),
        Some(Json::String(s)) => s.parse().ok(),
        _ => None,
    };
    let expiry = expires_in
        .filter(|s| *s > 0)
        .map(|s| crate::time::format(chrono::Utc::now() + chrono::Duration::seconds(s)))
        .unwrap_or_default();
    Ok(Token {
        access,
        refresh: field("refresh_token"),
        expiry,
    })
}

/// Reads the provider's user (and, for GitHub, its verified primary email).
pub(super) fn fetch_user(
    http: &dyn OAuthHttp,
    provider: &Provider,
    access: &str,
) -> Result<AuthUser> {
    let fail = || Error::bad_request("Failed to fetch OAuth2 user.");
    let get = |url: String| {
        call(
            http,
            OAuthRequest {
                method: OAuthMethod::Get,
                url,
                headers: vec![
                    ("Authorization".into(), format!("Bearer {access}")),
                    ("Accept".into(), "application/json".into()),
                ],
                form: Vec::new(),
            },
            &provider.name,
        )
    };
    let Some(Json::Object(raw)) = get(provider.user_info_url.clone()) else {
        return Err(fail());
    };
    let emails = match provider.shape {
        providers::Shape::Github => get(format!(
            "{}/emails",
            provider.user_info_url.trim_end_matches('/')
        )),
        _ => None,
    };
    let user = providers::read_user(provider.shape, raw, emails.as_ref());
    if user.id.is_empty() {
        tracing::debug!(provider = %provider.name, "oauth2 user without id");
        return Err(fail());
    }
    Ok(user)
}

/// One request; `None` (logged) unless it answered 2xx with JSON (or, for token
/// endpoints that ignore `Accept`, a form-encoded body).
fn call(http: &dyn OAuthHttp, request: OAuthRequest, provider: &str) -> Option<Json> {
    let url = request.url.clone();
    let response = match http.send(request) {
        Ok(r) => r,
        Err(error) => {
            tracing::warn!(provider, %url, %error, "oauth2 provider unreachable");
            return None;
        }
    };
    if !(200..300).contains(&response.status) {
        tracing::debug!(provider, %url, status = response.status, "oauth2 provider refused");
        return None;
    }
    if let Ok(json) = serde_json::from_slice::<Json>(&response.body) {
        return Some(json);
    }
    let text = std::str::from_utf8(&response.body).ok()?;
    let mut map = Map::new();
    for pair in text.split('&').filter(|p| p.contains('=')) {
        let (k, v) = pair.split_once('=')?;
        let decode = |s: &str| {
            urlencoding::decode(&s.replace('+', " "))
                .ok()
                .map(|c| c.into_owned())
        };
        map.insert(decode(k)?, Json::String(decode(v)?));
    }
    (!map.is_empty()).then_some(Json::Object(map))
}
