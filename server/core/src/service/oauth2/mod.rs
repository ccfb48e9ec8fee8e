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

mod providers;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Map, Value as Json};

use super::mfa::AuthOutcome;
use super::{Action, Principal, Services, SUPERUSERS};
use crate::auth;
use crate::filter::{Filter, RequestInfo};
use crate::oauth_http::{OAuthHttp, OAuthMethod, OAuthRequest};
use crate::record::Record;
use crate::schema::Collection;
use crate::store::{Query, Write};
use crate::value::Value;
use crate::{ids, Code, Error, FieldError, Result};

pub use providers::resolve as resolve_oauth2_provider;
pub use providers::{AuthUser, Provider};

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

/// What a token endpoint answered.
struct Token {
    access: String,
    refresh: String,
    expiry: String,
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

    /// The first record of `collection` matching `expr` with `params`.
    pub(super) fn find_first(
        &self,
        collection: &Arc<Collection>,
        expr: &str,
        params: &[(&str, &str)],
    ) -> Result<Option<Record>> {
        let mut map = Map::new();
        for (k, v) in params {
            map.insert((*k).to_owned(), Json::String((*v).to_owned()));
        }
        let filter = Filter::compile(expr, collection, &self.catalog(), Some(&map))?;
        let query = Query {
            filter: Some(filter),
            limit: 1,
            ..Query::default()
        };
        Ok(self
            .store
            .query(collection, &query)?
            .records
            .into_iter()
            .next())
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
        let token = exchange_code(&*http, &provider, login)?;
        let user = fetch_user(&*http, &provider, &token.access)?;
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

    /// Steps 1–4 of the module docs, committed with the link in one write. Returns the
    /// record and whether it is new.
    fn link_account(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        provider: &Provider,
        user: &AuthUser,
        login: &OAuth2Login,
        request: &RequestInfo,
    ) -> Result<(Record, bool)> {
        let links = self.collection(EXTERNAL_AUTHS)?;
        let mut writes = Vec::new();
        let link = self.find_first(
            &links,
            "collectionRef = {:c} && provider = {:p} && providerId = {:id}",
            &[
                ("c", &collection.id),
                ("p", &provider.name),
                ("id", &user.id),
            ],
        )?;
        let mut found = None;
        let mut linked = false;
        if let Some(link) = link {
            let record_id = text(&links, &link, "recordRef").to_owned();
            match self.store.get(collection, &record_id)? {
                Some(r) => {
                    found = Some(r);
                    linked = true;
                }
                // The record was deleted: drop the stale link and start over.
                None => writes.push(Write::Delete {
                    collection: links.clone(),
                    old: link,
                }),
            }
        }
        let signed_in = match who.auth() {
            Some((c, r)) if c.id == collection.id => Some(r.clone()),
            _ => None,
        };
        if found.is_none() {
            found = signed_in.clone();
        }
        if found.is_none() && !user.email.is_empty() {
            found = self.find_by_email(collection, &user.email)?;
        }
        let (record, is_new) = match found {
            Some(old) => {
                let is_signed_in = signed_in.as_ref().is_some_and(|r| r.id() == old.id());
                let new = self.refresh_linked(collection, &old, user, is_signed_in)?;
                if new != old {
                    writes.push(Write::Update {
                        collection: collection.clone(),
                        old,
                        new: new.clone(),
                    });
                }
                (new, false)
            }
            None => {
                if collection.name == SUPERUSERS {
                    return Err(Error::new(
                        Code::InvalidCredentials,
                        "Failed to authenticate.",
                    ));
                }
                let record = self.oauth2_new_record(who, collection, user, login, request)?;
                writes.push(Write::Create {
                    collection: collection.clone(),
                    record: record.clone(),
                });
                (record, true)
            }
        };
        if !linked {
            let mut link = Record::zero(&links);
            link.values[0] = Value::Text(ids::new_id());
            let now = crate::time::now();
            for (field, value) in [
                ("collectionRef", collection.id.as_str()),
                ("recordRef", record.id()),
                ("provider", provider.name.as_str()),
                ("providerId", user.id.as_str()),
                ("created", now.as_str()),
                ("updated", now.as_str()),
            ] {
                set(&links, &mut link, field, Value::Text(value.to_owned()));
            }
            writes.push(Write::Create {
                collection: links,
                record: link,
            });
        }
        if !writes.is_empty() {
            self.write(writes).map_err(|e| match e.kind() {
                crate::Kind::Internal | crate::Kind::Unavailable => e,
                _ => {
                    tracing::debug!(error = %e, "oauth2 link not saved");
                    Error::new(Code::InvalidCredentials, "Failed to authenticate.")
                }
            })?;
        }
        Ok((record, is_new))
    }

    /// An existing record found for a provider user: a never-verified record that is
    /// not the caller's own gets a random password (and new token key), an empty email
    /// takes the provider's verified one, and the record becomes verified when its
    /// email is (or matches) the provider's.
    fn refresh_linked(
        &self,
        collection: &Collection,
        old: &Record,
        user: &AuthUser,
        is_signed_in: bool,
    ) -> Result<Record> {
        let mut new = old.clone();
        let verified = old
            .get(collection, "verified")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let email = text(collection, old, "email").to_owned();
        if !is_signed_in && !email.is_empty() && !verified {
            let hash = auth::hash_password(&ids::random_string(RANDOM_PASSWORD_LEN))?;
            set(collection, &mut new, "password", Value::Text(hash));
            set(
                collection,
                &mut new,
                "tokenKey",
                Value::Text(ids::random_string(50)),
            );
        }
        if email.is_empty() && !user.email.is_empty() {
            set(
                collection,
                &mut new,
                "email",
                Value::Text(user.email.clone()),
            );
        }
        if !verified && (email.is_empty() || email == user.email) {
            set(collection, &mut new, "verified", Value::Bool(true));
        }
        if new != *old {
            set(
                collection,
                &mut new,
                "updated",
                Value::Text(crate::time::now()),
            );
        }
        Ok(new)
    }

    /// A new record from `createData`, the provider's verified email (which replaces
    /// any submitted one), a random password and the mapped fields, through the
    /// `createRule` with `@request.context = "oauth2"`.
    fn oauth2_new_record(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        user: &AuthUser,
        login: &OAuth2Login,
        request: &RequestInfo,
    ) -> Result<Record> {
        let mut payload = login.create_data.clone();
        payload.insert("email".into(), Json::String(user.email.clone()));
        let has_password = payload
            .get("password")
            .and_then(Json::as_str)
            .is_some_and(|p| !p.is_empty());
        if !has_password {
            let password = Json::String(ids::random_string(RANDOM_PASSWORD_LEN));
            payload.insert("password".into(), password.clone());
            payload.insert("passwordConfirm".into(), password);
        }
        let mapped = collection
            .auth_options
            .oauth2
            .as_ref()
            .and_then(|o| o.mapped_fields.clone())
            .unwrap_or_default();
        let mut map = |field: Option<String>, value: &str| {
            if let Some(field) = field.filter(|f| !f.is_empty() && !value.is_empty()) {
                payload
                    .entry(field)
                    .or_insert_with(|| Json::String(value.to_owned()));
            }
        };
        map(mapped.id, &user.id);
        map(mapped.name, &user.name);
        let avatar_field = mapped.avatar_url.filter(|f| {
            // File fields would need a download; only text-like fields take the URL.
            collection
                .field(f)
                .is_some_and(|fd| !matches!(fd.kind, crate::schema::field::FieldKind::File(_)))
        });
        map(avatar_field, &user.avatar_url);
        if let Some(field) = mapped.username.filter(|f| !f.is_empty()) {
            let taken = !user.username.is_empty()
                && collection.field(&field).is_some()
                && self
                    .find_first(
                        collection,
                        &format!("{field} = {{:v}}"),
                        &[("v", &user.username)],
                    )?
                    .is_some();
            if !taken {
                map(Some(field), &user.username);
            }
        }
        let mut request = request.clone();
        request.context = "oauth2".into();
        request.body = payload.clone();
        let permit = self.authorize(who, collection, Action::Create, request)?;
        let mut record = self.input_for_create(&permit, collection, &payload)?;
        if !permit.allows(&record, self.store())? {
            return Err(Error::new(
                Code::ValidationFailed,
                "Failed to create record.",
            ));
        }
        if text(collection, &record, "email") == user.email {
            set(collection, &mut record, "verified", Value::Bool(true));
        }
        Ok(record)
    }
}

/// Trades the authorization code (and PKCE verifier) for an access token.
fn exchange_code(http: &dyn OAuthHttp, provider: &Provider, login: &OAuth2Login) -> Result<Token> {
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
fn fetch_user(http: &dyn OAuthHttp, provider: &Provider, access: &str) -> Result<AuthUser> {
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
