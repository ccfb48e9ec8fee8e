//! The plugin's settings, `[plugin.webhooks]` in `basalt.toml`:
//!
//! ```toml
//! [plugin.webhooks]
//! secret = "at least 16 characters"   # signs every delivery
//! max_attempts = 5                    # 1–20
//! backoff_ms = 1000                   # the first retry's delay; doubles each time
//! timeout_ms = 10000                  # per attempt
//! [[plugin.webhooks.targets]]
//! url = "https://example.com/hook"
//! collections = ["posts"]             # empty or absent: every non-system collection
//! events = ["create", "delete"]       # empty or absent: create, update and delete
//! ```

use std::time::Duration;

use basalt_plugin_api::{PluginError, RecordAction, RecordEvent, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub secret: String,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub timeout: Duration,
    pub targets: Vec<Target>,
}

/// One receiver and the events it gets.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub url: String,
    pub collections: Vec<String>,
    pub events: Vec<RecordAction>,
}

impl Target {
    /// Whether `event` goes to this target. System collections (`_…`) go only when
    /// named; the delivery log itself never does.
    pub fn wants(&self, event: &RecordEvent) -> bool {
        if event.collection == crate::DELIVERIES {
            return false;
        }
        let collection = if self.collections.is_empty() {
            !event.collection.starts_with('_')
        } else {
            self.collections.contains(&event.collection)
        };
        collection && (self.events.is_empty() || self.events.contains(&event.action))
    }
}

fn bad(message: impl Into<String>) -> PluginError {
    PluginError::new(message)
}

fn number(
    table: &serde_json::Map<String, Value>,
    key: &str,
    default: u64,
    range: (u64, u64),
) -> Result<u64, PluginError> {
    match table.get(key) {
        None => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if n >= range.0 && n <= range.1 => Ok(n),
            _ => Err(bad(format!(
                "{key} must be a whole number in {}–{}",
                range.0, range.1
            ))),
        },
    }
}

fn strings(value: Option<&Value>, key: &str) -> Result<Vec<String>, PluginError> {
    match value {
        None => Ok(Vec::new()),
        Some(v) => v
            .as_array()
            .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_owned)).collect())
            .ok_or_else(|| bad(format!("{key} must be a list of strings"))),
    }
}

impl Settings {
    pub fn parse(value: &Value) -> Result<Settings, PluginError> {
        let table = value
            .as_object()
            .ok_or_else(|| bad("needs settings: [plugin.webhooks] with a secret and targets"))?;
        for key in table.keys() {
            if ![
                "secret",
                "max_attempts",
                "backoff_ms",
                "timeout_ms",
                "targets",
            ]
            .contains(&key.as_str())
            {
                return Err(bad(format!(
                    "unknown setting {key:?} (secret, max_attempts, backoff_ms, timeout_ms, targets)"
                )));
            }
        }
        let secret = table
            .get("secret")
            .and_then(Value::as_str)
            .filter(|s| s.trim().len() >= 16)
            .ok_or_else(|| bad("secret must be at least 16 characters"))?
            .to_owned();
        let targets = table
            .get("targets")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("targets must be a list of [[plugin.webhooks.targets]] tables"))?
            .iter()
            .enumerate()
            .map(|(i, t)| target(t).map_err(|e| bad(format!("targets[{i}]: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings {
            secret,
            max_attempts: number(table, "max_attempts", 5, (1, 20))? as u32,
            backoff: Duration::from_millis(number(table, "backoff_ms", 1000, (1, 3_600_000))?),
            timeout: Duration::from_millis(number(table, "timeout_ms", 10_000, (100, 300_000))?),
            targets,
        })
    }
}

fn target(value: &Value) -> Result<Target, PluginError> {
    let table = value.as_object().ok_or_else(|| bad("must be a table"))?;
    for key in table.keys() {
        if !["url", "collections", "events"].contains(&key.as_str()) {
            return Err(bad(format!(
                "unknown key {key:?} (url, collections, events)"
            )));
        }
    }
    let url = table
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| {
            (u.starts_with("http://") || u.starts_with("https://"))
                && reqwest::Url::parse(u).is_ok()
        })
        .ok_or_else(|| bad("url must be an http:// or https:// URL"))?
        .to_owned();
    let events = strings(table.get("events"), "events")?
        .iter()
        .map(|e| match e.as_str() {
            "create" => Ok(RecordAction::Create),
            "update" => Ok(RecordAction::Update),
            "delete" => Ok(RecordAction::Delete),
            other => Err(bad(format!(
                "event {other:?} is not create, update or delete"
            ))),
        })
        .collect::<Result<_, _>>()?;
    Ok(Target {
        url,
        collections: strings(table.get("collections"), "collections")?,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_plugin_api::{json, Actor, Map};

    fn event(collection: &str, action: RecordAction) -> RecordEvent {
        RecordEvent {
            seq: 1,
            action,
            collection: collection.into(),
            id: "r".into(),
            record: Map::new(),
            old: None,
            actor: Actor::System,
        }
    }

    #[test]
    fn settings_parse_with_defaults_and_refuse_bad_values() {
        let s = Settings::parse(&json!({
            "secret": "0123456789abcdef",
            "targets": [{"url": "http://127.0.0.1:9/x", "collections": ["posts"], "events": ["create"]}],
        }))
        .unwrap();
        assert_eq!((s.max_attempts, s.backoff), (5, Duration::from_secs(1)));
        let t = &s.targets[0];
        assert!(t.wants(&event("posts", RecordAction::Create)));
        assert!(!t.wants(&event("posts", RecordAction::Delete)));
        assert!(!t.wants(&event("other", RecordAction::Create)));
        for bad in [
            json!(null),
            json!({"secret": "short", "targets": []}),
            json!({"secret": "0123456789abcdef"}),
            json!({"secret": "0123456789abcdef", "targets": [{"url": "ftp://x"}]}),
            json!({"secret": "0123456789abcdef", "targets": [{"url": "http://x", "events": ["nap"]}]}),
            json!({"secret": "0123456789abcdef", "targets": [], "max_attempts": 0}),
            json!({"secret": "0123456789abcdef", "targets": [], "extra": 1}),
        ] {
            assert!(Settings::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn all_collections_means_the_non_system_ones() {
        let t = Target {
            url: "http://x".into(),
            collections: vec![],
            events: vec![],
        };
        assert!(t.wants(&event("posts", RecordAction::Update)));
        assert!(!t.wants(&event("_superusers", RecordAction::Update)));
        assert!(!t.wants(&event(crate::DELIVERIES, RecordAction::Create)));
    }
}
