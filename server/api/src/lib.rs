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
mod health;
mod install;
pub mod logs;
mod metrics;
mod multipart;
mod oauth2;
mod personal;
mod policies;
mod ratelimit;
pub mod realtime;
mod records;
mod settings;

use std::sync::Arc;

use basalt_core::service::Services;
use poem::{delete, get, post, Endpoint, EndpointExt, Route};

pub use context::HttpLimits;
pub use error::ApiError;
pub use install::InstallToken;

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
        .at("/_/*path", get(admin::serve))
        .at("/api/health", get(health::health).head(health::health))
        .at("/api/batch", post(batch::batch))
        .at("/api/x/:plugin/*path", extensions::plugin_route)
        .at("/api/logs", get(logs::list_logs))
        .at("/api/logs/stats", get(logs::log_stats))
        .at("/api/logs/:id", get(logs::get_log))
        .at("/api/metrics", get(metrics::get_metrics))
        .at(
            "/api/collections/:collection/records/:id/export",
            get(personal::export_user),
        )
        .at(
            "/api/collections/:collection/records/:id/purge",
            post(personal::purge_user),
        )
        .at(
            "/api/realtime",
            get(realtime::connect).post(realtime::set_subscriptions),
        )
        .at(
            "/api/oauth2-redirect",
            get(realtime::oauth2_redirect).post(realtime::oauth2_redirect),
        )
        .at(
            "/api/collections",
            get(collections::list_collections).post(collections::create_collection),
        )
        .at(
            "/api/collections/import",
            poem::put(collections::import_collections),
        )
        .at(
            "/api/collections/:collection",
            get(collections::get_collection)
                .patch(collections::update_collection)
                .delete(collections::delete_collection),
        )
        .at(
            "/api/collections/:collection/records",
            get(records::list_records).post(records::create_record),
        )
        .at(
            "/api/collections/:collection/records/:id",
            get(records::get_record)
                .patch(records::update_record)
                .delete(records::delete_record),
        )
        .at(
            "/api/collections/:collection/auth-with-password",
            post(auth::auth_with_password),
        )
        .at(
            "/api/collections/:collection/auth-with-oauth2",
            post(oauth2::auth_with_oauth2),
        )
        .at(
            "/api/collections/:collection/auth-refresh",
            post(auth::auth_refresh),
        )
        .at(
            "/api/collections/:collection/auth-methods",
            get(auth::auth_methods),
        )
        .at(
            "/api/collections/:collection/request-verification",
            post(emails::request_verification),
        )
        .at(
            "/api/collections/:collection/confirm-verification",
            post(emails::confirm_verification),
        )
        .at(
            "/api/collections/:collection/request-password-reset",
            post(emails::request_password_reset),
        )
        .at(
            "/api/collections/:collection/confirm-password-reset",
            post(emails::confirm_password_reset),
        )
        .at(
            "/api/collections/:collection/request-email-change",
            post(emails::request_email_change),
        )
        .at(
            "/api/collections/:collection/confirm-email-change",
            post(emails::confirm_email_change),
        )
        .at(
            "/api/collections/:collection/request-otp",
            post(emails::request_otp),
        )
        .at(
            "/api/collections/:collection/auth-with-otp",
            post(emails::auth_with_otp),
        )
        .at("/api/settings/test/email", post(emails::test_email))
        .at("/api/files/token", post(files::file_token))
        .at(
            "/api/files/:collection/:record/:filename",
            get(files::get_file),
        )
        .at(
            "/api/collections/:collection/impersonate/:id",
            post(auth::impersonate),
        )
        .at(
            "/api/policies",
            get(policies::list_policies).post(policies::create_policy),
        )
        .at("/api/policies/:id", delete(policies::delete_policy))
        .at(
            "/api/policies/explain/:collection",
            get(policies::explain_collection),
        )
        .at(
            "/api/settings",
            get(settings::get_settings).patch(settings::update_settings),
        )
        .at(
            "/api/backups",
            get(backups::list_backups).post(backups::create_backup),
        )
        .at("/api/backups/upload", post(backups::upload_backup))
        .at(
            "/api/backups/:key",
            get(backups::download_backup).delete(backups::delete_backup),
        )
        .at("/api/backups/:key/restore", post(backups::restore_backup))
        .at("/api/roles", get(policies::list_roles))
        .at(
            "/api/roles/links",
            get(policies::list_role_links).post(policies::create_role_link),
        )
        .at("/api/roles/links/:id", delete(policies::delete_role_link))
        .at(
            "/api/roles/records/:collection/:record",
            get(policies::record_roles),
        );
    api.catch_all_error(error::envelope_for_poem_error)
        .around(ratelimit::rate_limit)
        .around(cors::body_limit)
        .around(cors::cors)
        .around(logs::observe)
        .data(state)
}
