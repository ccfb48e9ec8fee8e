//! `/api/oauth2-redirect`: the redirect URL of the SDK's all-in-one OAuth2 flow
//! (`authWithOAuth2`). The SDK opens the provider's page with `state` set to its
//! realtime client id and listens on the `@oauth2` topic; the provider sends the
//! browser back here with `code` and `state`, and this relays them to that client,
//! which then calls `auth-with-oauth2` itself. Nothing is authenticated here: the code
//! is useless without the PKCE verifier only the client holds.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Form;
use poem::{handler, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{message, Hub};
use crate::AppState;

/// The topic the SDK subscribes to for the redirect.
const TOPIC: &str = "@oauth2";

#[derive(Debug, Default, Deserialize)]
pub struct Redirect {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    error: String,
}

/// `GET` (query) and `POST` (`response_mode=form_post`) both end here.
#[handler]
pub async fn oauth2_redirect(req: &Request, form: Option<Form<Redirect>>) -> Response {
    let params = match form {
        Some(Form(f)) if !f.state.is_empty() => f,
        _ => req.params::<Redirect>().unwrap_or_default(),
    };
    let Some(state) = req.data::<Arc<AppState>>() else {
        return page(StatusCode::INTERNAL_SERVER_ERROR, false);
    };
    if relay(&state.realtime, &params) {
        page(
            StatusCode::OK,
            params.error.is_empty() && !params.code.is_empty(),
        )
    } else {
        page(StatusCode::BAD_REQUEST, false)
    }
}

/// Sends the redirect to the client named by `state`, if it is connected and waits
/// for it.
fn relay(hub: &Hub, params: &Redirect) -> bool {
    let Some(client) = hub.get(&params.state) else {
        return false;
    };
    let waiting = client.state.lock().topics.iter().any(|t| t.raw == TOPIC);
    if !waiting {
        return false;
    }
    let data = json!({"state": params.state, "code": params.code, "error": params.error});
    hub.send(&client, message(&client.id, TOPIC, &data.to_string()));
    true
}

/// The page the popup shows before it closes itself.
fn page(status: StatusCode, ok: bool) -> Response {
    let (title, text) = if ok {
        ("Signed in", "You are signed in. You can close this window.")
    } else {
        (
            "Sign-in failed",
            "The sign-in could not be completed. Close this window and try again.",
        )
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head>\
         <body style=\"font-family:system-ui,sans-serif;text-align:center;padding:3em\">\
         <h1>{title}</h1><p>{text}</p>\
         <script>if ({ok}) setTimeout(function () {{ window.close(); }}, 300);</script>\
         </body></html>"
    );
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(html)
}
