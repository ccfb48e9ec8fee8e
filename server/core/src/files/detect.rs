//! What a file is, judged by its bytes rather than its name or the client's word.

/// Types a browser may show inline; everything else is served as an attachment.
/// SVG and HTML are deliberately absent: inline they could run scripts.
const INLINE_TYPES: &[&str] = &[
    "image/png",
    "image/jpg",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/bmp",
    "video/webm",
    "video/mp4",
    "video/3gpp",
    "video/quicktime",
    "video/ogg",
    "audio/basic",
    "audio/aiff",
    "audio/mpeg",
    "audio/midi",
    "audio/mp3",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-mpeg",
    "audio/x-m4a",
    "audio/aac",
    "audio/ogg",
    "application/pdf",
    "application/x-pdf",
];

/// The content type of `bytes` from their signature (magic numbers); text that is
/// valid UTF-8 is `text/plain; charset=utf-8` (or JSON / SVG when it parses as such),
/// anything else `application/octet-stream`.
pub fn detect_mime(bytes: &[u8]) -> String {
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type().to_owned();
    }
    let head = &bytes[..bytes.len().min(8192)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A multi-byte character cut at the end of the head is still text.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return "application/octet-stream".to_owned(),
    };
    if text.contains('\0') {
        return "application/octet-stream".to_owned();
    }
    let trimmed = text.trim_start();
    let lower: String = trimmed
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("<svg") || (lower.starts_with("<?xml") && lower.contains("<svg")) {
        return "image/svg+xml".to_owned();
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return "text/html; charset=utf-8".to_owned();
    }
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && bytes.len() == head.len()
        && serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
    {
        return "application/json".to_owned();
    }
    "text/plain; charset=utf-8".to_owned()
}

/// Whether `detected` is the type `accepted` names, ignoring parameters and case
/// (`text/plain; charset=utf-8` is `text/plain`).
pub fn mime_matches(detected: &str, accepted: &str) -> bool {
    let essence = |m: &str| {
        let m = m
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match m.as_str() {
            "image/jpg" | "image/pjpeg" => "image/jpeg".to_owned(),
            _ => m,
        }
    };
    let accepted = essence(accepted);
    !accepted.is_empty() && essence(detected) == accepted
}

/// Whether a file of this type is served `inline` (else as an attachment).
pub fn is_inline_type(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or_default().trim();
    INLINE_TYPES.iter().any(|t| t.eq_ignore_ascii_case(essence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content_not_name() {
        assert_eq!(detect_mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(detect_mime(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(detect_mime(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(detect_mime(b"%PDF-1.4\n"), "application/pdf");
        assert_eq!(detect_mime(b"hello"), "text/plain; charset=utf-8");
        assert_eq!(detect_mime(b"{\"a\": 1}"), "application/json");
        assert_eq!(detect_mime(b"<svg xmlns='x'></svg>"), "image/svg+xml");
        assert_eq!(
            detect_mime(b"\0\x01\x02\xff\xfe"),
            "application/octet-stream"
        );
    }

    #[test]
    fn matching_ignores_parameters_and_case() {
        assert!(mime_matches("text/plain; charset=utf-8", "text/plain"));
        assert!(mime_matches("image/jpeg", "image/jpg"));
        assert!(mime_matches("image/PNG", "image/png"));
        assert!(!mime_matches("image/png", "image/jpeg"));
        assert!(!mime_matches("image/png", ""));
    }

    #[test]
    fn only_safe_types_are_inline() {
        assert!(is_inline_type("image/png"));
        assert!(is_inline_type("application/pdf"));
        assert!(!is_inline_type("image/svg+xml"));
        assert!(!is_inline_type("text/html; charset=utf-8"));
        assert!(!is_inline_type("text/plain; charset=utf-8"));
    }
}
