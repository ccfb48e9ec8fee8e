//! OAuth2 login (`auth-with-oauth2`, with PKCE) for auth collections, PocketBase's way:
//! the client gets the authorization URL and a PKCE pair from `auth-methods`, sends the
//! user to the provider, and posts back `{provider, code, codeVerifier, redirectURL}`.
//! The services exchange the code for a token and read the user through the
//! [`OAuthHttp`] port, then find or create the auth record:
//!
//! 1. the record already linked to `(provider, providerId)` in `_externalAuths`;
//! 2. else the caller's own record, when signed in to the same collection;
//! 3. else the record with the provider's *verified* email (never an unverified one);
//! 4. else a new record, through the collection's `createRule` with
//!    `@request.context = "oauth2"`.
//!
//! A found record that was never verified gets a new random password (someone may have
//! pre-registered the address), and the link is saved in the same commit.

mod exchange;
mod link;
mod providers;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Map, Value as Json};

use super::mfa::AuthOutcome;
use super::{Principal, Services};
use crate::filter::RequestInfo;
use crate::oauth_http::OAuthHttp;
use crate::record::Record;
use crate::schema::Collection;
use crate::value::Value;
use crate::{ids, Code, Error, FieldError, Result};

pub use providers::resolve as resolve_oauth2_provider;

/// The system collection linking auth records to provider accounts.
pub const EXTERNAL_AUTHS: &str = "_externalAuths";

/// The longest `code`, `codeVerifier` or `redirectURL` accepted, in bytes.
const MAX_PARAM_LEN: usize = 4096;
/// The longest provider name accepted, in bytes.
const MAX_PROVIDER_LEN: usize = 100;
/// Length of the random `state` and PKCE `codeVerifier` handed to clients.
const STATE_LEN: usize = 30;
const VERIFIER_LEN: usize = 43;
/// Length of the random password of accounts created through OAuth2.
const RANDOM_PASSWORD_LEN: usize = 30;

/// The body of `auth-with-oauth2`.
#[derive(Clone, Debug, Default)]
pub struct OAuth2Login {
    pub provider: String,
    pub code: String,
    pub code_verifier: String,
    pub redirect_url: String,
    pub create_data: Map<String, Json>,
}

impl OAuth2Login {
    /// Reads the body (also the deprecated `redirectUrl`). A `createData` that is not
    /// an object is reported by [`Services::auth_with_oauth2`].
    pub fn from_body(body: &Map<String, Json>) -> std::result::Result<OAuth2Login, Error> {
        let text = |k: &str| {
            body.get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let create_data = match body.get("createData") {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(m)) => m.clone(),
            Some(_) => {
                return Err(loading_error().with_field(
                    "createData",
                    FieldError::new("validation_invalid_value", "Must be an object."),
                ))
            }
        };
        let mut redirect_url = text("redirectURL");
        if redirect_url.is_empty() {
            redirect_url = text("redirectUrl");
        }
        Ok(OAuth2Login {
            provider: text("provider"),
            code: text("code"),
            code_verifier: text("codeVerifier"),
            redirect_url,
            create_data,
        })
    }
}

fn loading_error() -> Error {
    Error::new(
        Code::BadRequest,
        "An error occurred while loading the submitted data.",
    )
}

/// `base64url(sha256(verifier))`, PKCE's S256 challenge.
pub fn s256_challenge(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn text<'a>(c: &Collection, r: &'a Record, field: &str) -> &'a str {
    r.get(c, field).and_then(Value::as_str).unwrap_or_default()
}

fn set(c: &Collection, r: &mut Record, field: &str, v: Value) {
    if let Some(i) = c.field_pos(field) {
        r.values[i] = v;
    }
}

fn enabled(collection: &Collection) -> bool {
    collection
        .auth_options
        .oauth2
        .as_ref()
        .and_then(|o| o.enabled)
        .unwrap_or(false)
}

fn provider_configs(collection: &Collection) -> &[Json] {
    collection
        .auth_options
        .oauth2
        .as_ref()
        .and_then(|o| o.providers.as_deref())
        .unwrap_or_default()
}

/// Removes every `clientSecret` from a collection's JSON: secrets are write-only.
pub fn hide_client_secrets(collection_json: &mut Json) {
    let providers = collection_json
        .get_mut("oauth2")
        .and_then(|o| o.get_mut("providers"))
        .and_then(Json::as_array_mut);
    for p in providers.into_iter().flatten() {
        if let Some(p) = p.as_object_mut() {
            p.remove("clientSecret");
        }
    }
}

impl Services {
    /// Attaches the HTTP client OAuth2 logins use. Without one, `auth-with-oauth2`
    /// answers 503.
    pub fn attach_oauth_http(&mut self, http: Arc<dyn OAuthHttp>) {
        self.oauth_http = Some(http);
    }

    pub(super) fn ensure_external_auths(&self) -> Result<()> {
        if self.catalog().get(EXTERNAL_AUTHS).is_some() {
            return Ok(());
        }
        let text = |name: &str| json!({"name": name, "type": "text", "required": true, "max": 255});
        let definition = json!({
            "name": EXTERNAL_AUTHS,
            "type": "base",
            "system": true,
            "fields": [text("collectionRef"), text("recordRef"), text("provider"), text("providerId")],
            "indexes": [
                "CREATE UNIQUE INDEX idx_externalAuths_record_provider ON _externalAuths (collectionRef, recordRef, provider)",
                "CREATE UNIQUE INDEX idx_externalAuths_collection_provider ON _externalAuths (collectionRef, provider, providerId)",
            ],
        });
        let collection: Collection = serde_json::from_value(definition).map_err(Error::internal)?;
        self.create_collection_unchecked(collection)?;
        Ok(())
    }

    /// The `oauth2` part of `auth-methods`: each usable provider with a fresh `state`
    /// and PKCE pair, and its authorization URL ending in `&redirect_uri=` for the
    /// client to complete.
    pub fn oauth2_auth_methods(&self, collection: &Collection) -> Json {
        if !enabled(collection) {
            return json!({"enabled": false, "providers": []});
        }
        let mut out = Vec::new();
        for config in provider_configs(collection) {
            let provider = match providers::resolve(config) {
                Ok(p) => p,
                Err(key) => {
                    tracing::debug!(collection = %collection.name, key, "skipping incomplete oauth2 provider");
                    continue;
                }
            };
            let state = ids::random_string(STATE_LEN);
            let mut params = vec![
                ("client_id", provider.client_id.clone()),
                ("response_type", "code".to_owned()),
                ("scope", provider.scopes.clone()),
                ("state", state.clone()),
            ];
            let (mut verifier, mut challenge, mut method) = (String::new(), String::new(), "");
            if provider.pkce {
                verifier = ids::random_string(VERIFIER_LEN);
                challenge = s256_challenge(&verifier);
                method = "S256";
                params.push(("code_challenge", challenge.clone()));
                params.push(("code_challenge_method", method.to_owned()));
            }
            params.sort_by(|a, b| a.0.cmp(b.0));
            let query = params
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let sep = if provider.auth_url.contains('?') {
                '&'
            } else {
                '?'
            };
            let auth_url = format!("{}{sep}{query}&redirect_uri=", provider.auth_url);
            out.push(json!({
                "name": provider.name,
                "displayName": provider.display_name,
                "state": state,
                "authURL": auth_url,
                "authUrl": auth_url,
                "codeVerifier": verifier,
                "codeChallenge": challenge,
                "codeChallengeMethod": method,
            }));
        }
        json!({"enabled": true, "providers": out})
    }

    /// `POST /api/collections/{c}/auth-with-oauth2`.
    pub fn auth_with_oauth2(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        login: &OAuth2Login,
        request: &RequestInfo,
        mfa_id: Option<&str>,
    ) -> Result<AuthOutcome> {
        if !collection.is_auth() {
            return Err(Error::bad_request(
                "The collection is not an auth collection.",
            ));
        }
        if !enabled(collection) {
            return Err(Error::new(
                Code::Forbidden,
                "The collection is not configured to allow OAuth2 authentication.",
            ));
        }
        let config = self.check_login(collection, login)?;
        let provider = providers::resolve(config).map_err(|key| {
            tracing::warn!(collection = %collection.name, provider = %login.provider, key, "incomplete oauth2 provider");
            Error::bad_request("The OAuth2 provider is not fully configured.")
        })?;
        let Some(http) = self.oauth_http.clone() else {
            return Err(Error::new(
                Code::Unavailable,
                "OAuth2 is not available on this server.",
            ));
        };
        let token = exchange::exchange_code(&*http, &provider, login)?;
        let user = exchange::fetch_user(&*http, &provider, &token.access)?;
        let (record, is_new) =
            self.link_account(who, collection, &provider, &user, login, request)?;
        self.check_auth_rule(collection, &record)?;
        let outcome = self.finish_auth(collection, &record, "oauth2", mfa_id, request)?;
        let AuthOutcome::Authenticated(mut body) = outcome else {
            return Ok(outcome);
        };
        if let Some(obj) = body.as_object_mut() {
            obj.insert(
                "meta".into(),
                json!({
                    "id": user.id,
                    "name": user.name,
                    "username": user.username,
                    "email": user.email,
                    "avatarURL": user.avatar_url,
                    "rawUser": user.raw,
                    "accessToken": token.access,
                    "refreshToken": token.refresh,
                    "expiry": token.expiry,
                    "isNew": is_new,
                }),
            );
        }
        Ok(AuthOutcome::Authenticated(body))
    }

    /// Checks the body; returns the named provider's configuration.
    fn check_login<'c>(&self, collection: &'c Collection, login: &OAuth2Login) -> Result<&'c Json> {
        let mut errs = crate::error::FieldErrors::default();
        let found = provider_configs(collection)
            .iter()
            .find(|p| p.get("name").and_then(Json::as_str) == Some(login.provider.as_str()));
        if login.provider.is_empty() {
            errs.add("provider", "validation_required", "Cannot be blank.");
        } else if found.is_none() || login.provider.len() > MAX_PROVIDER_LEN {
            errs.push(
                "provider",
                FieldError::new(
                    "validation_invalid_provider",
                    format!(
                        "Provider with name {:?} is missing or is not enabled.",
                        login.provider
                    ),
                )
                .param("name", login.provider.clone()),
            );
        }
        for (key, value) in [
            ("code", &login.code),
            ("redirectURL", &login.redirect_url),
            ("codeVerifier", &login.code_verifier),
        ] {
            if value.is_empty() && key != "codeVerifier" {
                errs.add(key, "validation_required", "Cannot be blank.");
            } else if value.len() > MAX_PARAM_LEN {
                errs.add(
                    key,
                    "validation_length_too_long",
                    format!("Must be no more than {MAX_PARAM_LEN} characters."),
                );
            }
        }
        errs.into_result("An error occurred while loading the submitted data.")?;
        found.ok_or_else(loading_error)
    }
}
