use basalt_core::files::{detect_mime, is_inline_type, ByteRange, FileStore};
use basalt_core::service::{FileTarget, Services};
use basalt_core::{Code, Error};
use poem::http::{header, StatusCode};
use poem::web::Path;
use poem::{handler, Request, Response};

use super::range::{self, Wanted};
use super::thumbs;
use crate::context::{param, Ctx};
use crate::ApiError;

/// Bytes read to detect a file's type.
const SNIFF_BYTES: u64 = 8192;
/// Public files may be cached this long (names never get new content).
const PUBLIC_CACHE: &str = "max-age=2592000, stale-while-revalidate=86400";
/// Files served inline still may not run anything.
const FILE_CSP: &str = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/// What one file request resolved to, read from storage.
struct Served {
    target: FileTarget,
    mime: String,
    size: u64,
    key: String,
    wanted: Wanted,
    bytes: Vec<u8>,
}

/// `GET /api/files/{collection}/{record}/{filename}` with `thumb`, `token` and
/// `download`, honouring `Range` and `If-None-Match`.
#[handler]
pub async fn get_file(
    ctx: Ctx,
    req: &Request,
    Path((collection, record, filename)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let thumb = param(&ctx.request, "thumb").to_owned();
    let token = param(&ctx.request, "token").to_owned();
    let download = matches!(param(&ctx.request, "download"), "1" | "t" | "true" | "yes");
    let header_of = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let range_header = header_of(header::RANGE);
    let if_none_match = header_of(header::IF_NONE_MATCH);
    let served = ctx
        .run(move |s, _, _| {
            let target = s.resolve_file(&collection, &record, &filename, &thumb, &token)?;
            load(s, target, range_header.as_deref())
        })
        .await?;
    Ok(respond(served, download, if_none_match.as_deref()))
}

fn not_found() -> Error {
    Error::from_code(Code::NotFound)
}

/// Reads the file (or its thumbnail, made and stored on first request).
fn load(
    s: &Services,
    target: FileTarget,
    range_header: Option<&str>,
) -> basalt_core::Result<Served> {
    let store = s.files()?;
    let key = match &target.thumb {
        Some((thumb, thumb_key)) => {
            if ensure_thumb(&*store, &target.key, thumb_key, *thumb)? {
                thumb_key.clone()
            } else {
                target.key.clone()
            }
        }
        None => target.key.clone(),
    };
    let sniff = ByteRange {
        start: 0,
        end: Some(SNIFF_BYTES - 1),
    };
    let head = store.get(&key, Some(sniff))?.ok_or_else(not_found)?;
    let mime = detect_mime(&head.bytes);
    let wanted = range::parse(range_header, head.size);
    let bytes = match &wanted {
        Wanted::Whole if head.bytes.len() as u64 == head.size => head.bytes,
        Wanted::Whole => store.get(&key, None)?.ok_or_else(not_found)?.bytes,
        Wanted::Part(r) => store.get(&key, Some(*r))?.ok_or_else(not_found)?.bytes,
        Wanted::Unsatisfiable => Vec::new(),
    };
    Ok(Served {
        target,
        mime,
        size: head.size,
        key,
        wanted,
        bytes,
    })
}

/// Makes the thumbnail unless it is cached; `false` when the original is not an
/// image we can thumbnail (the original is served then, as PocketBase does).
fn ensure_thumb(
    store: &dyn FileStore,
    original: &str,
    thumb_key: &str,
    thumb: basalt_core::files::Thumb,
) -> basalt_core::Result<bool> {
    if store.exists(thumb_key)? {
        return Ok(true);
    }
    let blob = store.get(original, None)?.ok_or_else(not_found)?;
    let Some(bytes) = thumbs::make(&blob.bytes, thumb) else {
        return Ok(false);
    };
    store.put(thumb_key, &bytes)?;
    Ok(true)
}

/// A stable tag for a stored blob: names never get new content.
fn etag(key: &str, size: u64) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}-{size:x}\"")
}

fn respond(served: Served, download: bool, if_none_match: Option<&str>) -> Response {
    let tag = etag(&served.key, served.size);
    let disposition = if download || !is_inline_type(&served.mime) {
        "attachment"
    } else {
        "inline"
    };
    let cache = if served.target.protected {
        "private, no-store"
    } else {
        PUBLIC_CACHE
    };
    let builder = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, tag.as_str())
        .header(header::CACHE_CONTROL, cache)
        .header(header::CONTENT_SECURITY_POLICY, FILE_CSP)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    let fresh =
        if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if fresh {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    let builder = builder.content_type(served.mime.as_str()).header(
        header::CONTENT_DISPOSITION,
        format!("{disposition}; filename=\"{}\"", served.target.filename),
    );
    match served.wanted {
        Wanted::Whole => builder.status(StatusCode::OK).body(served.bytes),
        Wanted::Part(r) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!(
                    "bytes {}-{}/{}",
                    r.start,
                    r.start + (served.bytes.len() as u64).saturating_sub(1),
                    served.size
                ),
            )
            .body(served.bytes),
        Wanted::Unsatisfiable => builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{}", served.size))
            .finish(),
    }
}
