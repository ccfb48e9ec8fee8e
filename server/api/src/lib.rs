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
mod files;
mod health;
mod install;
mod multipart;
mod oauth2;
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
        }
    }

    /// Serves `/api/backups` with `backups`.
    pub fn with_backups(mut self, backups: Arc<dyn basalt_core::backup::Backups>) -> AppState {
        self.backups = Some(backups);
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
        .data(state)
}
