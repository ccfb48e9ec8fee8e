//! The provider table: default endpoints of the well-known OAuth2 providers, how a
//! collection's provider configuration completes them, and how each provider's
//! user-info JSON maps to an [`AuthUser`].
//!
//! The one security-relevant output is [`AuthUser::email`]: it is only ever set when
//! the provider asserts that the address is verified. Accounts are linked by email on
//! that value alone (trusting an unverified provider email is how account takeovers
//! through OAuth2 happen).

use serde_json::{Map, Value as Json};

/// How a provider's user-info JSON is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// OpenID Connect claims: `sub`, `name`, `preferred_username`, `email`,
    /// `email_verified`, `picture`.
    Oidc,
    /// GitHub's `/user`, with the verified primary email from `/user/emails`.
    Github,
    /// Discord's `/users/@me`.
    Discord,
}

/// A built-in provider's defaults.
struct Known {
    name: &'static str,
    display_name: &'static str,
    auth_url: &'static str,
    token_url: &'static str,
    user_info_url: &'static str,
    scopes: &'static str,
    pkce: bool,
    shape: Shape,
}

/// Providers configurable by name alone. Any other name (including `oidc`) is a
/// generic OpenID Connect / OAuth2 provider that needs its URLs configured.
const KNOWN: &[Known] = &[
    Known {
        name: "google",
        display_name: "Google",
        auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        user_info_url: "https://openidconnect.googleapis.com/v1/userinfo",
        scopes: "openid email profile",
        pkce: true,
        shape: Shape::Oidc,
    },
    Known {
        name: "github",
        display_name: "GitHub",
        auth_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        user_info_url: "https://api.github.com/user",
        scopes: "read:user user:email",
        pkce: true,
        shape: Shape::Github,
    },
    Known {
        name: "gitlab",
        display_name: "GitLab",
        auth_url: "https://gitlab.com/oauth/authorize",
        token_url: "https://gitlab.com/oauth/token",
        user_info_url: "https://gitlab.com/oauth/userinfo",
        scopes: "openid profile email",
        pkce: true,
        shape: Shape::Oidc,
    },
    Known {
        name: "discord",
        display_name: "Discord",
        auth_url: "https://discord.com/api/oauth2/authorize",
        token_url: "https://discord.com/api/oauth2/token",
        user_info_url: "https://discord.com/api/users/@me",
        scopes: "identify email",
        pkce: true,
        shape: Shape::Discord,
    },
    Known {
        name: "microsoft",
        display_name: "Microsoft",
        auth_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        // Microsoft asserts no `email_verified`: its emails are never trusted for
        // linking (see the module docs).
        user_info_url: "https://graph.microsoft.com/oidc/userinfo",
        scopes: "openid email profile User.Read",
        pkce: true,
        shape: Shape::Oidc,
    },
];

/// The scopes of a generic provider unless `extra.scopes` says otherwise.
const OIDC_SCOPES: &str = "openid email profile";

/// A provider configuration completed from the table: everything needed to build the
/// authorization URL, exchange a code and read the user.
#[derive(Clone, Debug)]
pub struct Provider {
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: String,
    pub token_url: String,
    pub user_info_url: String,
    pub scopes: String,
    pub pkce: bool,
    pub shape: Shape,
}

fn text(config: &Map<String, Json>, key: &str) -> String {
    config
        .get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Completes one entry of `oauth2.providers`. `Err` names the missing key.
pub fn resolve(config: &Json) -> Result<Provider, &'static str> {
    let config = config.as_object().ok_or("name")?;
    let name = text(config, "name");
    if name.is_empty() {
        return Err("name");
    }
    let known = KNOWN.iter().find(|k| k.name == name);
    let pick = |key: &str, default: Option<&str>| {
        let own = text(config, key);
        if own.is_empty() {
            default.unwrap_or_default().to_owned()
        } else {
            own
        }
    };
    let client_id = text(config, "clientId");
    if client_id.is_empty() {
        return Err("clientId");
    }
    let auth_url = pick("authURL", known.map(|k| k.auth_url));
    let token_url = pick("tokenURL", known.map(|k| k.token_url));
    let user_info_url = pick("userInfoURL", known.map(|k| k.user_info_url));
    for (key, url) in [
        ("authURL", &auth_url),
        ("tokenURL", &token_url),
        ("userInfoURL", &user_info_url),
    ] {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(key);
        }
    }
    let extra = config.get("extra").and_then(Json::as_object);
    let scopes = match extra.and_then(|e| e.get("scopes")) {
        Some(Json::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(Json::Array(items)) if !items.is_empty() => items
            .iter()
            .filter_map(Json::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => known.map_or(OIDC_SCOPES, |k| k.scopes).to_owned(),
    };
    let display_name = pick("displayName", known.map(|k| k.display_name));
    Ok(Provider {
        display_name: if display_name.is_empty() {
            name.clone()
        } else {
            display_name
        },
        client_id,
        client_secret: text(config, "clientSecret"),
        auth_url,
        token_url,
        user_info_url,
        scopes,
        pkce: config
            .get("pkce")
            .and_then(Json::as_bool)
            .unwrap_or_else(|| known.is_none_or(|k| k.pkce)),
        shape: known.map_or(Shape::Oidc, |k| k.shape),
        name,
    })
}

/// The user as a provider describes it (PocketBase's `AuthUser`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuthUser {
    pub id: String,
    pub name: String,
    pub username: String,
    /// Set only when the provider asserts the address is verified.
    pub email: String,
    pub avatar_url: String,
    pub raw: Map<String, Json>,
}

fn claim(raw: &Map<String, Json>, keys: &[&str]) -> String {
    for key in keys {
        match raw.get(*key) {
            Some(Json::String(s)) if !s.is_empty() => return s.clone(),
            Some(Json::Number(n)) => return n.to_string(),
            _ => {}
        }
    }
    String::new()
}

/// `true`, or the string `"true"` some providers send.
fn asserted(v: Option<&Json>) -> bool {
    match v {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Reads a provider's user-info JSON. `emails` is GitHub's `/user/emails` list.
pub fn read_user(shape: Shape, raw: Map<String, Json>, emails: Option<&Json>) -> AuthUser {
    let mut user = AuthUser::default();
    match shape {
        Shape::Oidc => {
            user.id = claim(&raw, &["sub", "id"]);
            user.name = claim(&raw, &["name"]);
            user.username = claim(&raw, &["preferred_username", "nickname"]);
            user.avatar_url = claim(&raw, &["picture"]);
            if asserted(raw.get("email_verified")) {
                user.email = claim(&raw, &["email"]);
            }
        }
        Shape::Github => {
            user.id = claim(&raw, &["id"]);
            user.username = claim(&raw, &["login"]);
            user.name = claim(&raw, &["name"]);
            user.avatar_url = claim(&raw, &["avatar_url"]);
            let list = emails.and_then(Json::as_array).into_iter().flatten();
            for entry in list {
                if asserted(entry.get("primary")) && asserted(entry.get("verified")) {
                    if let Some(e) = entry.get("email").and_then(Json::as_str) {
                        user.email = e.to_owned();
                    }
                }
            }
        }
        Shape::Discord => {
            user.id = claim(&raw, &["id"]);
            user.username = claim(&raw, &["username"]);
            user.name = claim(&raw, &["global_name", "username"]);
            let avatar = claim(&raw, &["avatar"]);
            if !avatar.is_empty() {
                user.avatar_url = format!(
                    "https://cdn.discordapp.com/avatars/{}/{avatar}.png",
                    user.id
                );
            }
            if asserted(raw.get("verified")) {
                user.email = claim(&raw, &["email"]);
            }
        }
    }
    user.raw = raw;
    user
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn known_providers_need_only_credentials() {
        let p = resolve(&json!({"name": "google", "clientId": "a", "clientSecret": "b"})).unwrap();
        assert_eq!(p.display_name, "Google");
        assert!(p.auth_url.starts_with("https://accounts.google.com/"));
        assert!(p.pkce);
        assert_eq!(resolve(&json!({"name": "google"})).unwrap_err(), "clientId");
    }

    #[test]
    fn custom_providers_need_urls() {
        let bare = json!({"name": "acme", "clientId": "a"});
        assert_eq!(resolve(&bare).unwrap_err(), "authURL");
        let full = json!({"name": "acme", "clientId": "a", "authURL": "https://a/auth",
            "tokenURL": "https://a/token", "userInfoURL": "https://a/me", "pkce": false,
            "extra": {"scopes": ["openid", "email"]}});
        let p = resolve(&full).unwrap();
        assert_eq!(p.display_name, "acme");
        assert_eq!(p.scopes, "openid email");
        assert!(!p.pkce);
        assert_eq!(p.shape, Shape::Oidc);
    }

    #[test]
    fn unverified_emails_are_dropped() {
        let raw = obj(json!({"sub": "1", "email": "a@b.c", "email_verified": false}));
        assert_eq!(read_user(Shape::Oidc, raw, None).email, "");
        let raw = obj(json!({"sub": "1", "email": "a@b.c", "email_verified": "true"}));
        assert_eq!(read_user(Shape::Oidc, raw, None).email, "a@b.c");
        let raw = obj(json!({"id": "9", "email": "a@b.c", "verified": false}));
        assert_eq!(read_user(Shape::Discord, raw, None).email, "");
    }

    #[test]
    fn github_takes_the_verified_primary_email() {
        let raw = obj(json!({"id": 42, "login": "octo", "email": "public@x.y"}));
        let emails = json!([
            {"email": "old@x.y", "primary": false, "verified": true},
            {"email": "main@x.y", "primary": true, "verified": true},
        ]);
        let user = read_user(Shape::Github, raw.clone(), Some(&emails));
        assert_eq!((user.id.as_str(), user.email.as_str()), ("42", "main@x.y"));
        let unverified = json!([{"email": "main@x.y", "primary": true, "verified": false}]);
        assert_eq!(read_user(Shape::Github, raw, Some(&unverified)).email, "");
    }
}
