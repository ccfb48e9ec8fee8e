//! The admin dashboard's built files (`admin-ui/dist`), embedded into the binary, and
//! how each is served: content type, cache policy, and the single-page-app fallback.
//!
//! It embeds nothing else and knows no HTTP framework. It compiles without the built
//! files (a fresh checkout without node): every path then serves a one-line page saying
//! the admin UI was not built.

use std::borrow::Cow;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../admin-ui/dist/"]
#[allow_missing = true]
struct Dist;

/// How long a client may keep a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Content-hashed file names: cache for a year, never revalidate.
    Immutable,
    /// Revalidate on every use (`index.html` and unhashed files).
    NoCache,
}

impl CachePolicy {
    /// The `Cache-Control` header value.
    pub fn header(self) -> &'static str {
        match self {
            CachePolicy::Immutable => "public, max-age=31536000, immutable",
            CachePolicy::NoCache => "no-cache",
        }
    }
}

/// One file to serve.
#[derive(Clone, Debug)]
pub struct Asset {
    pub body: Cow<'static, [u8]>,
    pub content_type: Cow<'static, str>,
    pub cache: CachePolicy,
}

/// Vite writes content-hashed files under this directory.
const HASHED_DIR: &str = "assets/";

const NOT_BUILT: &str = "<!doctype html><title>Basalt</title><p>The admin UI was not built \
into this binary: run <code>npm ci &amp;&amp; npm run build</code> in <code>admin-ui/</code> \
and rebuild.</p>\n";

/// The asset for a path under `/_/` (without the leading slash). Paths that name no
/// file get `index.html`, so client-side routes survive a reload; a missing file under
/// `assets/` or with an extension is `None` (a 404), not the app.
pub fn lookup(path: &str) -> Option<Asset> {
    let path = path.trim_start_matches('/');
    if path.is_empty() || path == "index.html" {
        return Some(index());
    }
    if let Some(file) = Dist::get(path) {
        let cache = if path.starts_with(HASHED_DIR) {
            CachePolicy::Immutable
        } else {
            CachePolicy::NoCache
        };
        return Some(Asset {
            body: file.data,
            content_type: Cow::Owned(file.metadata.mimetype().to_owned()),
            cache,
        });
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if path.starts_with(HASHED_DIR) || last.contains('.') {
        return None;
    }
    Some(index())
}

/// `index.html`, or a page saying the UI was not built.
pub fn index() -> Asset {
    let body = Dist::get("index.html")
        .map(|f| f.data)
        .unwrap_or(Cow::Borrowed(NOT_BUILT.as_bytes()));
    Asset {
        body,
        content_type: Cow::Borrowed("text/html; charset=utf-8"),
        cache: CachePolicy::NoCache,
    }
}

/// Whether the built UI is embedded.
pub fn is_built() -> bool {
    Dist::get("index.html").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_never_cached() {
        assert_eq!(index().cache, CachePolicy::NoCache);
        assert_eq!(lookup("").unwrap().cache, CachePolicy::NoCache);
    }

    #[test]
    fn client_routes_fall_back_to_index_but_missing_files_do_not() {
        let app = lookup("collections/posts").unwrap();
        assert!(app.content_type.starts_with("text/html"));
        assert!(lookup("assets/missing-0000.js").is_none());
        assert!(lookup("missing.png").is_none());
    }

    #[test]
    fn hashed_assets_are_immutable() {
        if let Some(name) = Dist::iter().find(|p| p.starts_with(HASHED_DIR)) {
            let asset = lookup(&name).unwrap();
            assert_eq!(asset.cache, CachePolicy::Immutable);
            assert!(!asset.content_type.is_empty());
        }
    }
}
