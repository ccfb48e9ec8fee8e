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
mod install;
mod multipart;
mod oauth2;
mod openapi;
mod ratelimit;
pub mod realtime;
mod records;
mod router;

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
        .at("/_/*path", get(admin::serve));
    router::mount(api)
        .catch_all_error(error::envelope_for_poem_error)
        .around(ratelimit::rate_limit)
        .around(cors::body_limit)
        .around(cors::cors)
        .data(state)
}
