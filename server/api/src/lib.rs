//! The HTTP face of Basalt: poem routes, request extraction, error → HTTP mapping.
//!
//! Handlers extract, authorize through `Services::authorize`, call one service method
//! and serialize. This crate holds no business rules and never names a storage engine.

mod admin;
mod auth;
mod backups;
mod batch;
mod collections;
mod context;
mod cors;
mod emails;
mod error;
mod extensions;
mod files;
mod install;
pub mod logs;
mod metrics;
mod multipart;
mod oauth2;
mod openapi;
mod personal;
mod ratelimit;
pub mod realtime;
mod records;
mod router;
mod sdk;

use std::sync::Arc;

use basalt_core::service::Services;
use poem::{get, Endpoint, EndpointExt, Route};

pub use context::HttpLimits;
pub use error::ApiError;
pub use install::InstallToken;
pub use router::PLAIN_ROUTES;

/// Shared state of every handler.
pub struct AppState {
    pub services: Arc<Services>,
    pub limits: HttpLimits,
    /// Counters of the settings' rate limits.
    limiter: ratelimit::Limiter,
    /// Failed password logins per client and identity.
    login_failures: ratelimit::Limiter,
    /// Set while the data directory has no superuser (see [`InstallToken`]).
    pub install: Option<InstallToken>,
    /// Backups of the data directory (`/api/backups`), when the binary provides them.
    pub backups: Option<Arc<dyn basalt_core::backup::Backups>>,
    /// The realtime clients; the binary starts a [`realtime::Follower`] on it.
    pub realtime: Arc<realtime::Hub>,
    /// Request counters and latency for `/api/metrics`.
    pub metrics: metrics::Metrics,
    /// Where request logs are read from (`/api/logs`), when the binary provides it.
    pub log_store: Option<Arc<dyn basalt_core::logs::LogStore>>,
    /// Where the middleware queues request logs.
    pub log_sink: Option<Arc<logs::LogSink>>,
    /// The data directory, for the store size in `/api/metrics`.
    pub data_dir: Option<std::path::PathBuf>,
    /// A bearer token that may read `/api/metrics` besides superusers.
    pub metrics_token: Option<String>,
    /// How far the search indexer has followed the change log (`/api/metrics`).
    pub search_progress: Option<Arc<std::sync::atomic::AtomicU64>>,
}

impl AppState {
    pub fn new(
        services: Arc<Services>,
        limits: HttpLimits,
        install: Option<InstallToken>,
    ) -> AppState {
        AppState {
            realtime: Arc::new(realtime::Hub::new(limits.realtime.clone())),
            services,
            limits,
            limiter: ratelimit::Limiter::default(),
            login_failures: ratelimit::Limiter::default(),
            install,
            backups: None,
            metrics: metrics::Metrics::default(),
            log_store: None,
            log_sink: None,
            data_dir: None,
            metrics_token: None,
            search_progress: None,
        }
    }

    /// Serves `/api/backups` with `backups`.
    pub fn with_backups(mut self, backups: Arc<dyn basalt_core::backup::Backups>) -> AppState {
        self.backups = Some(backups);
        self
    }
}

impl AppState {
    /// Writes request logs to `store` through `sink` and serves them on `/api/logs`.
    pub fn with_logs(
        mut self,
        store: Arc<dyn basalt_core::logs::LogStore>,
        sink: Arc<logs::LogSink>,
    ) -> AppState {
        self.log_store = Some(store);
        self.log_sink = Some(sink);
        self
    }

    /// The data directory and `/api/metrics`' bearer token.
    pub fn with_ops(mut self, dir: std::path::PathBuf, metrics_token: Option<String>) -> AppState {
        self.data_dir = Some(dir);
        self.metrics_token = metrics_token.filter(|t| !t.is_empty());
        self
    }

    /// The search indexer's progress, for the search lag in `/api/metrics`.
    pub fn with_search_progress(mut self, progress: Arc<std::sync::atomic::AtomicU64>) -> AppState {
        self.search_progress = Some(progress);
        self
    }
}

/// Every route of the API, with CORS and the error envelope applied.
pub fn routes(state: Arc<AppState>) -> impl Endpoint {
    let api = Route::new()
        .at("/_", get(admin::redirect))
        .at("/_/", get(admin::serve))
        .at("/_/*path", get(admin::serve));
    router::mount(api)
        .catch_all_error(error::envelope_for_poem_error)
        .around(ratelimit::rate_limit)
        .around(cors::body_limit)
        .around(cors::cors)
        .around(logs::observe)
        .data(state)
}
