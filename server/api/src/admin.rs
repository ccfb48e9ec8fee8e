//! `/_/`: the embedded admin dashboard. Hashed assets are cached forever, everything
//! else revalidates; unknown client-side routes get `index.html`.

use poem::http::{header, StatusCode};
use poem::web::{Path, Redirect};
use poem::{handler, IntoResponse, Response};

#[handler]
pub async fn redirect() -> Redirect {
    Redirect::permanent("/_/")
}

#[handler]
pub async fn serve(path: Option<Path<String>>) -> Response {
    let path = path.map(|Path(p)| p).unwrap_or_default();
    let Some(asset) = basalt_admin_assets::lookup(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Response::builder()
        .header(header::CONTENT_TYPE, asset.content_type.as_ref())
        .header(header::CACHE_CONTROL, asset.cache.header())
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(asset.body.into_owned())
}
