//! The first-party plugins the configuration can enable by name.

use std::sync::Arc;

use basalt_plugin_api::Plugin;
use serde_json::Value as Json;

/// The names `plugins = [...]` accepts.
pub const BUILTIN: &[&str] = &["webhooks", "audit-log"];

/// The first-party plugin `name` with its settings (`[plugin.<name>]`).
pub fn builtin(name: &str, settings: &Json) -> Result<Arc<dyn Plugin>, String> {
    match name {
        "webhooks" => basalt_plugin_webhooks::Webhooks::from_settings(settings)
            .map(|p| Arc::new(p) as Arc<dyn Plugin>)
            .map_err(|e| e.to_string()),
        "audit-log" => basalt_plugin_audit_log::AuditLog::from_settings(settings)
            .map(|p| Arc::new(p) as Arc<dyn Plugin>)
            .map_err(|e| e.to_string()),
        other => Err(format!(
            "unknown plugin {other:?} (known: {})",
            BUILTIN.join(", ")
        )),
    }
}
