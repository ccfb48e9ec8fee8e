//! [`PluginHost`]: the plugin API's `Host` over the services, one per plugin so its
//! logs carry its name.

use std::sync::{Arc, Weak};

use basalt_core::service::Services;
use basalt_core::Kind;
use basalt_plugin_api::{Host, HostError, Level, ListQuery, Record, Value};

pub struct PluginHost {
    pub name: String,
    /// Weak: the services hold the hooks that hold the hosts.
    services: Weak<Services>,
}

impl PluginHost {
    pub fn new(name: &str, services: &Arc<Services>) -> PluginHost {
        PluginHost {
            name: name.to_owned(),
            services: Arc::downgrade(services),
        }
    }

    fn services(&self) -> Result<Arc<Services>, HostError> {
        self.services.upgrade().ok_or_else(|| HostError {
            status: 503,
            message: "the server is shutting down".into(),
            fields: Vec::new(),
        })
    }
}

/// A core error as a plugin sees it.
pub fn host_error(e: basalt_core::Error) -> HostError {
    HostError {
        status: status_of(e.kind()),
        message: e.message,
        fields: e
            .data
            .into_iter()
            .map(|(field, err)| (field, err.message))
            .collect(),
    }
}

/// The HTTP status of an error kind (the api crate's mapping, for plugins' eyes).
fn status_of(kind: Kind) -> u16 {
    match kind {
        Kind::BadRequest => 400,
        Kind::Unauthenticated => 401,
        Kind::Forbidden => 403,
        Kind::NotFound => 404,
        Kind::Conflict => 409,
        Kind::PayloadTooLarge => 413,
        Kind::TooManyRequests => 429,
        Kind::Unavailable => 503,
        Kind::Internal => 500,
    }
}

impl Host for PluginHost {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Record>, HostError> {
        self.services()?
            .host_get(collection, id)
            .map_err(host_error)
    }

    fn list(&self, collection: &str, query: &ListQuery) -> Result<Vec<Record>, HostError> {
        self.services()?
            .host_list(
                collection,
                &query.filter,
                &query.sort,
                query.limit,
                query.offset,
            )
            .map_err(host_error)
    }

    fn create(&self, collection: &str, body: Record) -> Result<Record, HostError> {
        self.services()?
            .host_create(collection, body)
            .map_err(host_error)
    }

    fn update(&self, collection: &str, id: &str, body: Record) -> Result<Record, HostError> {
        self.services()?
            .host_update(collection, id, body)
            .map_err(host_error)
    }

    fn delete(&self, collection: &str, id: &str) -> Result<(), HostError> {
        self.services()?
            .host_delete(collection, id)
            .map_err(host_error)
    }

    fn ensure_collection(&self, definition: Value) -> Result<bool, HostError> {
        self.services()?
            .ensure_collection(definition)
            .map_err(host_error)
    }

    fn log(&self, level: Level, message: &str) {
        let plugin = self.name.as_str();
        match level {
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}
