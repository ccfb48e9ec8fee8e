//! The route table: every plain poem route as data (path, methods), so the router and
//! the OpenAPI document's completeness test read the same list. The static endpoints
//! are declared in `openapi::static_api` and mounted from its own spec.

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::{Endpoint, EndpointExt, Response, Route, RouteMethod};

use crate::{
    auth, backups, batch, collections, emails, extensions, files, logs, metrics, oauth2, openapi,
    personal, realtime, records, sdk,
};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

/// Every plain route of the API (poem path syntax) with its methods.
pub const PLAIN_ROUTES: &[(&str, &[Method])] = &[
    ("/api/batch", &[POST]),
    ("/api/realtime", &[GET, POST]),
    ("/api/oauth2-redirect", &[GET, POST]),
    ("/api/collections", &[GET, POST]),
    ("/api/collections/import", &[PUT]),
    ("/api/collections/:collection", &[GET, PATCH, DELETE]),
    ("/api/collections/:collection/records", &[GET, POST]),
    (
        "/api/collections/:collection/records/:id",
        &[GET, PATCH, DELETE],
    ),
    ("/api/collections/:collection/auth-with-password", &[POST]),
    ("/api/collections/:collection/auth-with-oauth2", &[POST]),
    ("/api/collections/:collection/auth-refresh", &[POST]),
    ("/api/collections/:collection/auth-methods", &[GET]),
    ("/api/collections/:collection/request-verification", &[POST]),
    ("/api/collections/:collection/confirm-verification", &[POST]),
    (
        "/api/collections/:collection/request-password-reset",
        &[POST],
    ),
    (
        "/api/collections/:collection/confirm-password-reset",
        &[POST],
    ),
    ("/api/collections/:collection/request-email-change", &[POST]),
    ("/api/collections/:collection/confirm-email-change", &[POST]),
    ("/api/collections/:collection/request-otp", &[POST]),
    ("/api/collections/:collection/auth-with-otp", &[POST]),
    ("/api/collections/:collection/impersonate/:id", &[POST]),
    ("/api/files/:collection/:record/:filename", &[GET]),
    ("/api/backups/upload", &[POST]),
    ("/api/collections/:collection/records/:id/export", &[GET]),
    ("/api/collections/:collection/records/:id/purge", &[POST]),
    ("/api/logs", &[GET]),
    ("/api/logs/stats", &[GET]),
    ("/api/logs/:id", &[GET]),
    ("/api/metrics", &[GET]),
    ("/api/sdk/:lang", &[GET]),
    ("/api/x/:plugin/*path", &[GET, POST, PUT, PATCH, DELETE]),
    ("/api/openapi.json", &[GET]),
    ("/api/docs", &[GET]),
    ("/api/docs/:asset", &[GET]),
];

/// The handler of one plain route.
fn handler(path: &str, method: &Method) -> Option<BoxEndpoint<'static, Response>> {
    fn b<E: Endpoint + 'static>(e: E) -> Option<BoxEndpoint<'static, Response>> {
        Some(e.map_to_response().boxed())
    }
    let c = "/api/collections/:collection";
    let method = method.as_str();
    match (path, method) {
        ("/api/batch", "POST") => b(batch::batch),
        ("/api/realtime", "GET") => b(realtime::connect),
        ("/api/realtime", "POST") => b(realtime::set_subscriptions),
        ("/api/oauth2-redirect", _) => b(realtime::oauth2_redirect),
        ("/api/collections", "GET") => b(collections::list_collections),
        ("/api/collections", "POST") => b(collections::create_collection),
        ("/api/collections/import", "PUT") => b(collections::import_collections),
        (p, "GET") if p == c => b(collections::get_collection),
        (p, "PATCH") if p == c => b(collections::update_collection),
        (p, "DELETE") if p == c => b(collections::delete_collection),
        (p, m) => match (p.strip_prefix(c).unwrap_or_default(), m) {
            ("/records", "GET") => b(records::list_records),
            ("/records", "POST") => b(records::create_record),
            ("/records/:id", "GET") => b(records::get_record),
            ("/records/:id", "PATCH") => b(records::update_record),
            ("/records/:id", "DELETE") => b(records::delete_record),
            ("/auth-with-password", _) => b(auth::auth_with_password),
            ("/auth-with-oauth2", _) => b(oauth2::auth_with_oauth2),
            ("/auth-refresh", _) => b(auth::auth_refresh),
            ("/auth-methods", _) => b(auth::auth_methods),
            ("/request-verification", _) => b(emails::request_verification),
            ("/confirm-verification", _) => b(emails::confirm_verification),
            ("/request-password-reset", _) => b(emails::request_password_reset),
            ("/confirm-password-reset", _) => b(emails::confirm_password_reset),
            ("/request-email-change", _) => b(emails::request_email_change),
            ("/confirm-email-change", _) => b(emails::confirm_email_change),
            ("/request-otp", _) => b(emails::request_otp),
            ("/auth-with-otp", _) => b(emails::auth_with_otp),
            ("/impersonate/:id", _) => b(auth::impersonate),
            ("/records/:id/export", "GET") => b(personal::export_user),
            ("/records/:id/purge", "POST") => b(personal::purge_user),
            _ => None,
        },
    }
    .or_else(|| match (path, method) {
        ("/api/files/:collection/:record/:filename", _) => b(files::get_file),
        ("/api/backups/upload", _) => b(backups::upload_backup),
        ("/api/logs", _) => b(logs::list_logs),
        ("/api/logs/stats", _) => b(logs::log_stats),
        ("/api/logs/:id", _) => b(logs::get_log),
        ("/api/metrics", _) => b(metrics::get_metrics),
        ("/api/sdk/:lang", _) => b(sdk::download_sdk),
        ("/api/x/:plugin/*path", _) => b(extensions::plugin_route),
        ("/api/openapi.json", _) => b(openapi::openapi_json),
        ("/api/docs", _) => b(openapi::viewer::docs),
        ("/api/docs/:asset", _) => b(openapi::viewer::asset),
        _ => None,
    })
}

/// Mounts the plain routes and the static API on `route`.
pub fn mount(mut route: Route) -> Route {
    for (path, methods) in PLAIN_ROUTES {
        let mut endpoints = RouteMethod::new();
        for method in methods.iter() {
            let Some(ep) = handler(path, method) else {
                panic!("route table: no handler for {method} {path}");
            };
            endpoints = endpoints.method(method.clone(), ep);
        }
        route = route.at(*path, endpoints);
    }
    let static_api = Arc::new(openapi::static_endpoint());
    for path in openapi::static_paths() {
        route = route.at(path, static_api.clone());
    }
    route
}
