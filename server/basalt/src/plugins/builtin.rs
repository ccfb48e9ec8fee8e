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

/// The JavaScript hooks plugin of `hooks_dir` (enabled by the setting, not by name).
pub fn js_hooks(dir: &std::path::Path, config: &crate::Config) -> Arc<dyn Plugin> {
    use basalt_plugin_js_hooks::{JsHooks, Limits, Settings};
    Arc::new(JsHooks::new(Settings {
        dir: dir.to_owned(),
        limits: Limits {
            time: config.hooks_timeout,
            memory_bytes: config.hooks_memory_bytes,
        },
        poll: config.hooks_poll,
    }))
}
