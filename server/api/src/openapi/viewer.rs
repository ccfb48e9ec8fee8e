//! `GET /api/docs`: Swagger UI over `/api/openapi.json`, served from the assets
//! poem-openapi embeds (no CDN: the page loads nothing but these routes). The page is
//! public; the document is not, so the page sends a superuser token: the admin
//! dashboard's session when there is one in this browser, or one it gets from the
//! superuser login form it shows.

use std::sync::LazyLock;

use basalt_core::Error;
use poem::http::header;
use poem::web::Path;
use poem::{handler, Response};

use crate::ApiError;

/// Swagger UI's script and stylesheet, cut out of poem-openapi's self-contained page.
struct Assets {
    js: String,
    css: String,
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let Some(from) = text.find(start).map(|i| i + start.len()) else {
        return "";
    };
    text[from..]
        .find(end)
        .map(|len| &text[from..from + len])
        .unwrap_or_default()
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let page = super::static_service().swagger_ui_html();
    Assets {
        css: between(&page, "<style charset=\"UTF-8\">", "</style>").to_owned(),
        js: between(&page, "<script charset=\"UTF-8\">", "</script>").to_owned(),
    }
});

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Basalt API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<style>
  #login { font: 14px sans-serif; max-width: 28rem; margin: 2rem auto; display: none; }
  #login input { display: block; width: 100%; margin: .3rem 0 .8rem; padding: .4rem; }
  #login p.error { color: #b00020; }
</style>
</head>
<body>
<form id="login">
  <h2>Basalt API</h2>
  <p>The API document describes every collection, so it is for superusers. Log in with a
  superuser account (or open the admin dashboard first in this browser).</p>
  <label>Email <input name="identity" type="email" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
  <p class="error" id="login-error"></p>
</form>
<div id="ui"></div>
<script src="/api/docs/swagger-ui.js"></script>
<script src="/api/docs/viewer.js"></script>
</body>
</html>
"#;

const VIEWER_JS: &str = r#"(function () {
  var SESSION_KEY = 'basalt_docs_token';
  function adminToken() {
    try {
      var s = JSON.parse(localStorage.getItem('basalt_admin_auth') || 'null');
      return s && s.token ? s.token : '';
    } catch (e) { return ''; }
  }
  function token() { return sessionStorage.getItem(SESSION_KEY) || adminToken(); }
  function showLogin(message) {
    document.getElementById('login').style.display = 'block';
    document.getElementById('login-error').textContent = message || '';
  }
  function load() {
    var t = token();
    if (!t) { showLogin(''); return; }
    fetch('/api/openapi.json', { headers: { Authorization: t } }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) {
        sessionStorage.removeItem(SESSION_KEY);
        showLogin(res.body && res.body.message);
        return;
      }
      document.getElementById('login').style.display = 'none';
      var ui = SwaggerUIBundle({ dom_id: '#ui', spec: res.body, deepLinking: true, validatorUrl: null });
      ui.preauthorizeApiKey('authToken', t);
    }).catch(function (e) { showLogin(String(e)); });
  }
  document.getElementById('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var form = new FormData(ev.target);
    fetch('/api/collections/_superusers/auth-with-password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ identity: form.get('identity'), password: form.get('password') })
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok || !res.body.token) { showLogin(res.body && res.body.message); return; }
        sessionStorage.setItem(SESSION_KEY, res.body.token);
        load();
      }).catch(function (e) { showLogin(String(e)); });
  });
  load();
})();
"#;

/// Only this origin: scripts, styles, fetches and images never leave the server.
const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'";

fn reply(content_type: &str, body: String) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header("content-security-policy", CSP)
        .body(body)
}

/// `GET /api/docs`.
#[handler]
pub async fn docs() -> Response {
    reply("text/html; charset=utf-8", PAGE.to_owned())
}

/// `GET /api/docs/{asset}`.
#[handler]
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (content_type, body) = match name.as_str() {
        "swagger-ui.js" => ("text/javascript; charset=utf-8", ASSETS.js.clone()),
        "swagger-ui.css" => ("text/css; charset=utf-8", ASSETS.css.clone()),
        "viewer.js" => ("text/javascript; charset=utf-8", VIEWER_JS.to_owned()),
        _ => return Err(ApiError(Error::not_found())),
    };
    if body.is_empty() {
        tracing::error!(asset = %name, "swagger ui asset missing from poem-openapi's page");
        return Err(ApiError(Error::internal("viewer asset missing")));
    }
    Ok(reply(content_type, body))
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    #[test]
    fn swagger_ui_assets_are_cut_out_of_poem_openapis_page() {
        assert!(ASSETS.js.len() > 100_000, "{}", ASSETS.js.len());
        assert!(ASSETS.js.contains("SwaggerUIBundle"));
        assert!(ASSETS.css.contains(".swagger-ui"));
    }
}
