//! The `audit-log` plugin: an append-only record of every record write and every
//! login — who (superuser, auth record, guest or the system), what (collection,
//! record, action), when, and the record before and after.
//!
//! Entries live in the system collection `_auditLog`, whose rules are all `null`:
//! only superusers can list and view them, with the records API's filters
//! (`/api/collections/_auditLog/records?filter=collection="posts"`). Nobody can change
//! them through the API: a before-hook on `_auditLog` refuses every update and delete,
//! even a superuser's, and every create that does not come from the plugin itself.
//!
//! Entries are written by an after-hook, so they follow the durable commit order and
//! never slow the write they describe. It depends only on `basalt-plugin-api`.

use basalt_plugin_api::{
    json, Actor, LoginEvent, Map, Plugin, PluginError, RecordAction, RecordEvent, Registry, Reject,
    Scope, Value,
};

/// The collection the entries live in.
pub const COLLECTION: &str = "_auditLog";

/// The plugin, with its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLog {
    /// Collections whose writes are not logged (the log's own never is).
    pub exclude: Vec<String>,
}

impl Default for AuditLog {
    fn default() -> AuditLog {
        AuditLog {
            exclude: vec!["_webhookDeliveries".into()],
        }
    }
}

impl AuditLog {
    /// Reads the settings (`[plugin.audit-log]`): `exclude = ["coll", …]`, replacing
    /// the default exclusion of `_webhookDeliveries`. `null` = defaults.
    pub fn from_settings(settings: &Value) -> Result<AuditLog, PluginError> {
        let mut plugin = AuditLog::default();
        let Some(table) = settings.as_object() else {
            return match settings {
                Value::Null => Ok(plugin),
                _ => Err(PluginError::new("settings must be a table")),
            };
        };
        for (key, value) in table {
            match key.as_str() {
                "exclude" => {
                    plugin.exclude = value
                        .as_array()
                        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                        .ok_or_else(|| {
                            PluginError::new("exclude must be a list of collection names")
                        })?;
                }
                other => {
                    return Err(PluginError::new(format!(
                        "unknown setting {other:?} (exclude)"
                    )))
                }
            }
        }
        Ok(plugin)
    }

    fn logs(&self, collection: &str) -> bool {
        collection != COLLECTION && !self.exclude.iter().any(|c| c == collection)
    }
}

/// The definition of `_auditLog`: superusers only (`null` rules).
pub fn collection_definition() -> Value {
    let text = |name: &str| json!({"name": name, "type": "text"});
    json!({
        "name": COLLECTION,
        "type": "base",
        "listRule": null,
        "viewRule": null,
        "createRule": null,
        "updateRule": null,
        "deleteRule": null,
        "fields": [
            text("action"),
            text("collection"),
            text("recordId"),
            text("actorType"),
            text("actorCollection"),
            text("actorId"),
            text("method"),
            {"name": "seq", "type": "number"},
            {"name": "before", "type": "json"},
            {"name": "after", "type": "json"},
            {"name": "created", "type": "autodate", "onCreate": true},
        ],
        "indexes": [
            format!("CREATE INDEX idx_auditLog_collection ON {COLLECTION} (collection, recordId)")
        ],
    })
}

/// `(type, collection, id)` of an actor.
fn who(actor: &Actor) -> (&'static str, &str, &str) {
    match actor {
        Actor::Guest => ("guest", "", ""),
        Actor::Superuser { id } => ("superuser", "_superusers", id),
        Actor::Auth { collection, id } => ("auth", collection, id),
        Actor::System => ("system", "", ""),
    }
}

fn entry(event: &RecordEvent) -> Map<String, Value> {
    let (actor_type, actor_collection, actor_id) = who(&event.actor);
    let (before, after) = match event.action {
        RecordAction::Create => (Value::Null, Value::Object(event.record.clone())),
        RecordAction::Update => (
            event.old.clone().map_or(Value::Null, Value::Object),
            Value::Object(event.record.clone()),
        ),
        RecordAction::Delete => (Value::Object(event.record.clone()), Value::Null),
    };
    let entry = json!({
        "action": event.action.as_str(),
        "collection": event.collection,
        "recordId": event.id,
        "actorType": actor_type,
        "actorCollection": actor_collection,
        "actorId": actor_id,
        "seq": event.seq,
        "before": before,
        "after": after,
    });
    entry.as_object().cloned().unwrap_or_default()
}

fn login_entry(event: &LoginEvent) -> Map<String, Value> {
    let id = event.record.get("id").and_then(Value::as_str).unwrap_or("");
    let actor_type = if event.collection == "_superusers" {
        "superuser"
    } else {
        "auth"
    };
    let entry = json!({
        "action": "login",
        "collection": event.collection,
        "recordId": id,
        "actorType": actor_type,
        "actorCollection": event.collection,
        "actorId": id,
        "method": event.method,
    });
    entry.as_object().cloned().unwrap_or_default()
}

impl Plugin for AuditLog {
    fn name(&self) -> &str {
        "audit-log"
    }

    fn register(&self, registry: &mut Registry) -> Result<(), PluginError> {
        registry.setup(|host| {
            host.ensure_collection(collection_definition())?;
            Ok(())
        });
        let scope = Scope::collection(COLLECTION);
        registry.before(RecordAction::Create, scope.clone(), |write| {
            if *write.actor == Actor::System {
                return Ok(());
            }
            Err(Reject::new(
                "Audit log entries are written by the server only.",
            ))
        });
        for action in [RecordAction::Update, RecordAction::Delete] {
            registry.before(action, scope.clone(), |_| {
                Err(Reject::new(
                    "Audit log entries cannot be changed or deleted.",
                ))
            });
        }
        let plugin = self.clone();
        registry.after_any(Scope::All, move |host, event| {
            if !plugin.logs(&event.collection) {
                return Ok(());
            }
            host.create(COLLECTION, entry(event))?;
            Ok(())
        });
        registry.after_login(|host, event| {
            host.create(COLLECTION, login_entry(event))?;
            Ok(())
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_replace_the_exclusions_and_refuse_unknown_keys() {
        let p = AuditLog::from_settings(&json!({"exclude": ["a"]})).unwrap();
        assert_eq!(p.exclude, vec!["a".to_owned()]);
        assert!(p.logs("_webhookDeliveries") && !p.logs("a") && !p.logs(COLLECTION));
        assert!(AuditLog::from_settings(&json!({"nope": 1})).is_err());
        assert!(AuditLog::from_settings(&json!({"exclude": "a"})).is_err());
        assert_eq!(
            AuditLog::from_settings(&Value::Null).unwrap(),
            AuditLog::default()
        );
    }

    #[test]
    fn an_update_entry_carries_before_and_after() {
        let mut old = Map::new();
        old.insert("title".into(), json!("a"));
        let mut new = Map::new();
        new.insert("title".into(), json!("b"));
        let e = entry(&RecordEvent {
            seq: 7,
            action: RecordAction::Update,
            collection: "posts".into(),
            id: "x".into(),
            record: new,
            old: Some(old),
            actor: Actor::Auth {
                collection: "users".into(),
                id: "u1".into(),
            },
        });
        assert_eq!(e["before"]["title"], "a");
        assert_eq!(e["after"]["title"], "b");
        assert_eq!(e["actorType"], "auth");
        assert_eq!(e["actorId"], "u1");
    }
}
