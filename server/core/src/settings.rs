//! App settings (`/api/settings`): PocketBase's shape, stored in the store as one JSON
//! document and swapped in atomically when changed, so every reader sees a consistent
//! version without a restart. Secrets (`smtp.password`, `s3.secret`) are write-only.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::error::FieldErrors;
use crate::Result;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub meta: Meta,
    pub logs: Logs,
    pub backups: Backups,
    pub smtp: Smtp,
    pub s3: S3,
    pub batch: Batch,
    pub rate_limits: RateLimits,
    pub trusted_proxy: TrustedProxy,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Meta {
    pub app_name: String,
    #[serde(rename = "appURL")]
    pub app_url: String,
    pub sender_name: String,
    pub sender_address: String,
    pub hide_controls: bool,
}

impl Default for Meta {
    fn default() -> Meta {
        Meta {
            app_name: "Basalt".into(),
            app_url: "http://localhost:8090".into(),
            sender_name: "Support".into(),
            sender_address: "support@example.com".into(),
            hide_controls: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Logs {
    pub max_days: i64,
    pub min_level: i64,
    #[serde(rename = "logIP")]
    pub log_ip: bool,
    pub log_auth_id: bool,
}

impl Default for Logs {
    fn default() -> Logs {
        Logs {
            max_days: 5,
            min_level: 0,
            log_ip: true,
            log_auth_id: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Backups {
    pub cron: String,
    pub cron_max_keep: i64,
    pub s3: S3,
}

impl Default for Backups {
    fn default() -> Backups {
        Backups {
            cron: String::new(),
            cron_max_keep: 3,
            s3: S3::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Smtp {
    pub enabled: bool,
    pub port: u16,
    pub host: String,
    pub username: String,
    /// Write-only: never returned.
    pub password: String,
    /// `PLAIN` or `LOGIN`.
    pub auth_method: String,
    /// Implicit TLS (SMTPS); otherwise STARTTLS when the server offers it.
    pub tls: bool,
    pub local_name: String,
}

impl Default for Smtp {
    fn default() -> Smtp {
        Smtp {
            enabled: false,
            port: 587,
            host: "smtp.example.com".into(),
            username: String::new(),
            password: String::new(),
            auth_method: "PLAIN".into(),
            tls: false,
            local_name: String::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct S3 {
    pub enabled: bool,
    pub bucket: String,
    pub region: String,
    pub endpoint: String,
    pub access_key: String,
    /// Write-only: never returned.
    pub secret: String,
    pub force_path_style: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Batch {
    pub enabled: bool,
    pub max_requests: i64,
    /// Seconds.
    pub timeout: i64,
    /// Bytes; 0 = the server's body limit.
    pub max_body_size: i64,
}

impl Default for Batch {
    fn default() -> Batch {
        Batch {
            enabled: false,
            max_requests: 50,
            timeout: 3,
            max_body_size: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RateLimits {
    pub enabled: bool,
    pub rules: Vec<RateLimitRule>,
}

/// `label` is a path prefix (`/api/`), `METHOD /path`, or a tag: `*:auth`,
/// `*:create`, … or `<collection>:<action>`. At most `max_requests` per `duration`
/// seconds per client (IP for guests, auth record otherwise).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RateLimitRule {
    pub label: String,
    /// `""` everyone, `@guest` or `@auth`.
    pub audience: String,
    pub duration: i64,
    pub max_requests: i64,
}

impl Default for RateLimits {
    /// PocketBase's defaults, off until enabled.
    fn default() -> RateLimits {
        let rule = |label: &str, max_requests, duration| RateLimitRule {
            label: label.into(),
            audience: String::new(),
            duration,
            max_requests,
        };
        RateLimits {
            enabled: false,
            rules: vec![
                rule("*:auth", 2, 3),
                rule("*:create", 20, 5),
                rule("/api/batch", 3, 1),
                rule("/api/", 300, 10),
            ],
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct TrustedProxy {
    /// Headers holding the client IP (`X-Forwarded-For`, `X-Real-IP`, …). Empty =
    /// the connection's address, and forwarding headers are never trusted.
    pub headers: Vec<String>,
    #[serde(rename = "useLeftmostIP")]
    pub use_leftmost_ip: bool,
}

/// Upper bounds of numeric settings.
const MAX_RATE_RULES: usize = 100;

impl Settings {
    /// The settings as the API returns them: secrets blanked.
    pub fn redacted(&self) -> Json {
        let mut s = self.clone();
        s.smtp.password.clear();
        s.s3.secret.clear();
        s.backups.s3.secret.clear();
        serde_json::to_value(s).unwrap_or(Json::Null)
    }

    /// Applies a PATCH body: objects merge key by key; an empty or missing secret
    /// keeps the stored one. Unknown keys are rejected.
    pub fn patched(&self, patch: &Map<String, Json>) -> Result<Settings> {
        let mut merged = serde_json::to_value(self).map_err(crate::Error::internal)?;
        merge(&mut merged, &Json::Object(patch.clone()), "")?;
        let mut next: Settings = serde_json::from_value(merged).map_err(|e| {
            crate::Error::new(crate::Code::InvalidBody, format!("Invalid settings: {e}."))
        })?;
        for (new, old) in [
            (&mut next.smtp.password, &self.smtp.password),
            (&mut next.s3.secret, &self.s3.secret),
            (&mut next.backups.s3.secret, &self.backups.s3.secret),
        ] {
            if new.is_empty() {
                new.clone_from(old);
            }
        }
        next.validate()?;
        Ok(next)
    }

    pub fn validate(&self) -> Result<()> {
        let mut e = FieldErrors::default();
        let required = "Cannot be blank.";
        if self.meta.app_name.trim().is_empty() || self.meta.app_name.len() > 255 {
            e.add(
                "meta.appName",
                "validation_required",
                "Must be 1-255 characters.",
            );
        }
        if !(self.meta.app_url.starts_with("http://") || self.meta.app_url.starts_with("https://"))
        {
            e.add("meta.appURL", "validation_is_url", "Must be a valid url.");
        }
        if !self.meta.sender_address.contains('@') {
            e.add(
                "meta.senderAddress",
                "validation_is_email",
                "Must be a valid email address.",
            );
        }
        if self.smtp.enabled {
            if self.smtp.host.trim().is_empty() {
                e.add("smtp.host", "validation_required", required);
            }
            if self.smtp.port == 0 {
                e.add("smtp.port", "validation_required", required);
            }
        }
        if !matches!(self.smtp.auth_method.as_str(), "" | "PLAIN" | "LOGIN") {
            e.add(
                "smtp.authMethod",
                "validation_in_invalid",
                "Must be PLAIN or LOGIN.",
            );
        }
        if !self.backups.cron.trim().is_empty() {
            if let Err(why) = crate::cron::Schedule::parse(&self.backups.cron) {
                e.add(
                    "backups.cron",
                    "validation_invalid_cron",
                    format!("Invalid cron expression: {why}."),
                );
            }
        }
        if self.backups.cron_max_keep < 1 {
            e.add(
                "backups.cronMaxKeep",
                "validation_min_greater_equal_than_required",
                "Must be no less than 1.",
            );
        }
        if self.logs.max_days < 0 {
            e.add(
                "logs.maxDays",
                "validation_min_greater_equal_than_required",
                "Must be no less than 0.",
            );
        }
        if self.batch.max_requests < 0 || self.batch.timeout < 0 || self.batch.max_body_size < 0 {
            e.add(
                "batch",
                "validation_min_greater_equal_than_required",
                "Batch limits must be no less than 0.",
            );
        }
        if self.rate_limits.rules.len() > MAX_RATE_RULES {
            e.add(
                "rateLimits.rules",
                "validation_length_too_long",
                format!("At most {MAX_RATE_RULES} rules."),
            );
        }
        for (i, rule) in self.rate_limits.rules.iter().enumerate() {
            let at = |k: &str| format!("rateLimits.rules.{i}.{k}");
            if rule.label.trim().is_empty() || rule.label.len() > 255 {
                e.add(at("label"), "validation_required", required);
            }
            if rule.max_requests < 1 {
                e.add(
                    at("maxRequests"),
                    "validation_min_greater_equal_than_required",
                    "Must be no less than 1.",
                );
            }
            if !(1..=86_400).contains(&rule.duration) {
                e.add(
                    at("duration"),
                    "validation_min_greater_equal_than_required",
                    "Must be between 1 and 86400 seconds.",
                );
            }
            if !matches!(rule.audience.as_str(), "" | "@guest" | "@auth") {
                e.add(
                    at("audience"),
                    "validation_in_invalid",
                    "Must be empty, @guest or @auth.",
                );
            }
        }
        e.into_result("An error occurred while validating the submitted data.")
    }
}

fn merge(target: &mut Json, patch: &Json, path: &str) -> Result<()> {
    match (target, patch) {
        (Json::Object(t), Json::Object(p)) => {
            for (k, v) in p {
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match t.get_mut(k) {
                    None => {
                        return Err(crate::Error::new(
                            crate::Code::InvalidBody,
                            format!("Unknown settings key \"{at}\"."),
                        ))
                    }
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v, &at)?,
                    Some(slot) => *slot = v.clone(),
                }
            }
            Ok(())
        }
        (t, p) => {
            *t = p.clone();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patch(s: &Settings, j: Json) -> Result<Settings> {
        s.patched(j.as_object().unwrap())
    }

    #[test]
    fn patches_merge_and_keep_secrets() {
        let s = Settings::default();
        let s = patch(
            &s,
            json!({"smtp": {"enabled": true, "host": "127.0.0.1", "password": "hunter2"}}),
        )
        .unwrap();
        assert_eq!(s.smtp.port, 587);
        assert_eq!(s.smtp.password, "hunter2");
        let s = patch(&s, json!({"smtp": {"port": 2525}})).unwrap();
        assert_eq!(
            s.smtp.password, "hunter2",
            "a patch without the secret keeps it"
        );
        assert_eq!(s.redacted()["smtp"]["password"], "");
        assert_eq!(s.redacted()["smtp"]["port"], 2525);
    }

    #[test]
    fn bad_values_and_unknown_keys_are_rejected() {
        let s = Settings::default();
        let err = patch(
            &s,
            json!({"rateLimits": {"rules": [{"label": "", "maxRequests": 0, "duration": 5}]}}),
        )
        .unwrap_err();
        assert!(err.data.contains_key("rateLimits.rules.0.label"), "{err:?}");
        assert!(
            err.data.contains_key("rateLimits.rules.0.maxRequests"),
            "{err:?}"
        );
        let err = patch(&s, json!({"smtp": {"hots": "x"}})).unwrap_err();
        assert!(err.message.contains("smtp.hots"), "{err:?}");
        let err = patch(&s, json!({"smtp": {"port": "many"}})).unwrap_err();
        assert_eq!(err.code, crate::Code::InvalidBody);
    }
}
