//! The `webhooks` plugin: POSTs record events to configured URLs, signed with
//! HMAC-SHA256, retried with exponential backoff, with a delivery log superusers read.
//!
//! Each event is one JSON body `{event, collection, record, oldRecord?, seq,
//! deliveryId}`. Headers: `X-Basalt-Event` (`create`/`update`/`delete`),
//! `X-Basalt-Delivery` (the delivery log record's id), `X-Basalt-Timestamp` (Unix
//! seconds) and `X-Basalt-Signature: sha256=<hex>`, the HMAC-SHA256 with the configured
//! secret over `<timestamp>.<body>` — a receiver recomputes it and refuses old
//! timestamps, so a captured request cannot be replayed later.
//!
//! Events come from an after-hook (durable writes, commit order) into a queue; one
//! worker thread delivers them, so neither the write path nor the other plugins
//! ever wait on a receiver. A delivery that fails (no answer within the timeout, or a
//! status other than 2xx) is retried after `backoff_ms`, doubling each time, up to
//! `max_attempts` attempts. Every delivery is a record of the system collection
//! `_webhookDeliveries` (superusers only), updated after each attempt; the route
//! `GET /api/x/webhooks/deliveries?status=failed` lists them too. Deliveries still
//! queued or waiting for a retry when the server stops are resumed at the next start
//! (from their `pending`/`retrying` log records, attempts so far counted). It depends only on `basalt-plugin-api` and generic crates.

mod settings;
mod worker;

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use basalt_plugin_api::{
    json, Access, ListQuery, Method, Plugin, PluginError, RecordEvent, Registry, RouteResponse,
    Scope, Value,
};

pub use settings::{Settings, Target};
pub use worker::{sign, verify};

/// The collection of the delivery log.
pub const DELIVERIES: &str = "_webhookDeliveries";

/// The statuses a delivery goes through.
pub const STATUSES: &[&str] = &["pending", "retrying", "delivered", "failed"];

/// The plugin.
pub struct Webhooks {
    settings: Arc<Settings>,
    queue: Arc<Queue>,
}

/// The worker's queue, there once setup started the worker.
type Queue = Mutex<Option<Sender<worker::Job>>>;

impl Webhooks {
    /// Reads the settings (`[plugin.webhooks]`, see [`Settings`]).
    pub fn from_settings(settings: &Value) -> Result<Webhooks, PluginError> {
        Ok(Webhooks {
            settings: Arc::new(Settings::parse(settings)?),
            queue: Arc::default(),
        })
    }
}

/// The definition of `_webhookDeliveries`: superusers only (`null` rules).
pub fn deliveries_definition() -> Value {
    let text = |name: &str| json!({"name": name, "type": "text"});
    json!({
        "name": DELIVERIES,
        "type": "base",
        "listRule": null, "viewRule": null, "createRule": null,
        "updateRule": null, "deleteRule": null,
        "fields": [
            text("url"),
            text("event"),
            text("collection"),
            text("recordId"),
            text("status"),
            {"name": "attempts", "type": "number"},
            {"name": "responseStatus", "type": "number"},
            text("error"),
            {"name": "payload", "type": "json"},
            {"name": "created", "type": "autodate", "onCreate": true},
            {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
        ],
    })
}

fn enqueue(slot: &Queue, settings: &Settings, event: &RecordEvent) {
    let targets: Vec<&Target> = settings.targets.iter().filter(|t| t.wants(event)).collect();
    if targets.is_empty() {
        return;
    }
    let Ok(guard) = slot.lock() else {
        return;
    };
    let Some(queue) = guard.as_ref() else {
        return;
    };
    for target in targets {
        let _ = queue.send(worker::Job::new(target.url.clone(), event));
    }
}

impl Plugin for Webhooks {
    fn name(&self) -> &str {
        "webhooks"
    }

    fn register(&self, registry: &mut Registry) -> Result<(), PluginError> {
        let (settings, slot) = (self.settings.clone(), self.queue.clone());
        registry.setup(move |host| {
            host.ensure_collection(deliveries_definition())?;
            let queue: Sender<worker::Job> = worker::start(host, settings.clone())?;
            if let Ok(mut guard) = slot.lock() {
                *guard = Some(queue);
            }
            Ok(())
        });
        let (settings, slot) = (self.settings.clone(), self.queue.clone());
        registry.after_any(Scope::All, move |_, event| {
            enqueue(&slot, &settings, event);
            Ok(())
        });
        registry.route(
            Method::Get,
            "/deliveries",
            Access::Superuser,
            |host, request| {
                let status = request
                    .query
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !status.is_empty() && !STATUSES.contains(&status) {
                    return RouteResponse::error(
                        400,
                        format!("status must be one of {}", STATUSES.join(", ")),
                    );
                }
                let query = ListQuery {
                    filter: if status.is_empty() {
                        String::new()
                    } else {
                        format!("status = \"{status}\"")
                    },
                    sort: "-created".into(),
                    limit: 200,
                    offset: 0,
                };
                match host.list(DELIVERIES, &query) {
                    Ok(items) => RouteResponse::ok(json!({ "items": items })),
                    Err(e) => RouteResponse::error(e.status, e.message),
                }
            },
        );
        Ok(())
    }
}
