//! The options of auth collections, in PocketBase's JSON shape (`passwordAuth`,
//! `authToken`, `otp`, …).
//!
//! Every leaf is optional so that a partial object sent by a client (`"otp":
//! {"enabled": true}`) can be completed from the previous version or from the
//! defaults, the way PocketBase merges a request body into the stored collection.
//! Validation fills every leaf of an auth collection, so readers may rely on them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// Auth-only options; all `None` for base collections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_alert: Option<AuthAlert>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "oauth2")]
    pub oauth2: Option<OAuth2>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_auth: Option<PasswordAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<Mfa>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<Otp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<TokenConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reset_token: Option<TokenConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_change_token: Option<TokenConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_token: Option<TokenConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_token: Option<TokenConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_template: Option<EmailTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_password_template: Option<EmailTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_email_change_template: Option<EmailTemplate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmailTemplate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthAlert {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_template: Option<EmailTemplate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2 {
    /// Provider configurations, kept as given until OAuth2 is implemented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<Json>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_fields: Option<MappedFields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

impl OAuth2 {
    /// Secrets are write-only (never echoed by the API), so a provider sent back
    /// without a `clientSecret` keeps the stored one of the same name.
    pub fn keep_client_secrets(&mut self, old: &OAuth2) {
        let old = old.providers.as_deref().unwrap_or_default();
        for p in self.providers.iter_mut().flatten() {
            let Some(p) = p.as_object_mut() else {
                continue;
            };
            let blank = p
                .get("clientSecret")
                .is_none_or(|s| s.as_str().is_some_and(str::is_empty) || s.is_null());
            if !blank {
                continue;
            }
            let name = p.get("name").cloned();
            let secret = old
                .iter()
                .find(|o| o.get("name") == name.as_ref())
                .and_then(|o| o.get("clientSecret"))
                .cloned();
            if let Some(secret) = secret {
                p.insert("clientSecret".to_owned(), secret);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappedFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "avatarURL")]
    pub avatar_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_fields: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Mfa {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Otp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_template: Option<EmailTemplate>,
}

/// How long a kind of token lives, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
}

fn template(subject: &str, body: &str) -> Option<EmailTemplate> {
    Some(EmailTemplate {
        subject: Some(subject.to_owned()),
        body: Some(body.to_owned()),
    })
}

fn token(duration: i64) -> Option<TokenConfig> {
    Some(TokenConfig {
        duration: Some(duration),
    })
}

const SIGNATURE: &str = "<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>";

impl AuthOptions {
    /// The options of a new auth collection (PocketBase's default values).
    pub fn defaults() -> AuthOptions {
        let page = |text: &str| format!("<p>Hello,</p>\n{text}\n{SIGNATURE}");
        let button = |text: &str, path: &str, label: &str, note: &str| {
            page(&format!(
                "<p>{text}</p>\n<p>\n  <a class=\"btn\" href=\"{{APP_URL}}/_/#/auth/{path}/{{TOKEN}}\" target=\"_blank\" rel=\"noopener\">{label}</a>\n</p>\n<p><i>{note}</i></p>"
            ))
        };
        AuthOptions {
            auth_alert: Some(AuthAlert {
                enabled: Some(true),
                email_template: template(
                    "Login from a new location",
                    &page("<p>Your {APP_NAME} account was just used from a new location:</p>\n<p><em>{ALERT_INFO}</em></p>\n<p><strong>If this was not you, change your {APP_NAME} password right away to sign out every other location.</strong></p>"),
                ),
            }),
            oauth2: Some(OAuth2 {
                providers: Some(Vec::new()),
                mapped_fields: Some(MappedFields {
                    id: Some(String::new()),
                    name: Some(String::new()),
                    username: Some(String::new()),
                    avatar_url: Some(String::new()),
                }),
                enabled: Some(false),
            }),
            password_auth: Some(PasswordAuth {
                enabled: Some(true),
                identity_fields: Some(vec!["email".to_owned()]),
            }),
            mfa: Some(Mfa {
                enabled: Some(false),
                duration: Some(600),
                rule: Some(String::new()),
            }),
            otp: Some(Otp {
                enabled: Some(false),
                duration: Some(180),
                length: Some(8),
                email_template: template(
                    "OTP for {APP_NAME}",
                    &page("<p>Your one-time password is: <strong>{OTP}</strong></p>\n<p><i>If you did not ask for it, you can ignore this email.</i></p>"),
                ),
            }),
            auth_token: token(432_000),
            password_reset_token: token(1800),
            email_change_token: token(1800),
            verification_token: token(86_400),
            file_token: token(180),
            verification_template: template(
                "Verify your {APP_NAME} email",
                &button(
                    "Thank you for joining {APP_NAME}. Confirm your email address with the button below.",
                    "confirm-verification",
                    "Verify",
                    "If you did not sign up, you can ignore this email.",
                ),
            ),
            reset_password_template: template(
                "Reset your {APP_NAME} password",
                &button(
                    "Choose a new password with the button below.",
                    "confirm-password-reset",
                    "Reset password",
                    "If you did not ask for a password reset, you can ignore this email.",
                ),
            ),
            confirm_email_change_template: template(
                "Confirm your {APP_NAME} new email address",
                &button(
                    "Confirm your new email address with the button below.",
                    "confirm-email-change",
                    "Confirm new email",
                    "If you did not ask to change your email address, you can ignore this email.",
                ),
            ),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == AuthOptions::default()
    }

    /// Completes every leaf missing here from `base` (objects are merged key by key,
    /// lists and values are taken whole), like a JSON body bound onto a stored value.
    pub fn fill_from(&mut self, base: &AuthOptions) {
        let (Ok(Json::Object(mut mine)), Ok(Json::Object(theirs))) =
            (serde_json::to_value(&*self), serde_json::to_value(base))
        else {
            return;
        };
        merge_missing(&mut mine, theirs);
        if let Ok(merged) = serde_json::from_value(Json::Object(mine)) {
            *self = merged;
        }
    }
}

fn merge_missing(into: &mut Map<String, Json>, from: Map<String, Json>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (None, value) => {
                into.insert(key, value);
            }
            (Some(Json::Object(mine)), Json::Object(theirs)) => merge_missing(mine, theirs),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_objects_are_completed_from_the_base() {
        let mut opts: AuthOptions = serde_json::from_value(serde_json::json!({
            "otp": {"enabled": true},
            "passwordAuth": {"identityFields": ["email", "username"]},
            "authToken": {"duration": null}
        }))
        .unwrap();
        opts.fill_from(&AuthOptions::defaults());
        let otp = opts.otp.as_ref().unwrap();
        assert_eq!(otp.enabled, Some(true));
        assert_eq!(otp.length, Some(8));
        assert!(otp.email_template.as_ref().unwrap().body.is_some());
        let pa = opts.password_auth.as_ref().unwrap();
        assert_eq!(pa.enabled, Some(true));
        assert_eq!(
            pa.identity_fields.as_deref().unwrap(),
            ["email", "username"]
        );
        assert_eq!(opts.auth_token.unwrap().duration, Some(432_000));
    }

    #[test]
    fn defaults_have_pocketbase_shape() {
        let json = serde_json::to_value(AuthOptions::defaults()).unwrap();
        for key in [
            "authAlert",
            "oauth2",
            "passwordAuth",
            "mfa",
            "otp",
            "authToken",
            "passwordResetToken",
            "emailChangeToken",
            "verificationToken",
            "fileToken",
            "verificationTemplate",
            "resetPasswordTemplate",
            "confirmEmailChangeTemplate",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["oauth2"]["mappedFields"]["avatarURL"], "");
        assert_eq!(json["fileToken"]["duration"], 180);
        assert!(AuthOptions::default().is_empty());
        assert!(serde_json::to_value(AuthOptions::default())
            .unwrap()
            .as_object()
            .unwrap()
            .is_empty());
    }
}
