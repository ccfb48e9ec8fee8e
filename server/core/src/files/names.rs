//! Stored file names and the one check every key segment passes.

use crate::ids::random_string;

/// Longest base kept from a client's file name.
const MAX_BASE: usize = 100;
/// Longest extension kept (with its dot).
const MAX_EXT: usize = 20;

/// Whether `s` is safe as one segment of a storage key: `[A-Za-z0-9_.-]`, at most 255
/// bytes, not starting with a dot (so neither `.` nor `..`).
pub fn safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The name a client's file is stored under: `<snake_base>_<10 random>.<ext>`, as
/// PocketBase does (`Hello World.PNG` → `hello_world_k3j5h2l1m0.png`). A base shorter
/// than three characters is replaced by random characters.
pub fn stored_name(original: &str) -> String {
    let original = original.rsplit(['/', '\\']).next().unwrap_or_default();
    let (base, ext) = match original.rfind('.') {
        Some(i) if i > 0 => (&original[..i], &original[i..]),
        _ => (original, ""),
    };
    let ext: String = ext
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .take(MAX_EXT)
        .collect::<String>()
        .to_ascii_lowercase();
    let ext = if ext.len() > 1 { ext } else { String::new() };
    let mut base = snake_case(base);
    base.truncate(MAX_BASE);
    let base = base.trim_end_matches('_').to_owned();
    let base = if base.len() < 3 {
        random_string(10)
    } else {
        base
    };
    format!("{base}_{}{ext}", random_string(10))
}

/// `Hello World-Photo` → `hello_world_photo`, `myFile` → `my_file`; anything but ASCII
/// letters and digits separates words.
fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            prev_lower = false;
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        }
    }
    out.trim_end_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(name: &str) -> (String, String) {
        let (base, rest) = name.rsplit_once('_').unwrap();
        let (random, ext) = rest.split_once('.').unwrap_or((rest, ""));
        assert_eq!(random.len(), 10, "{name}");
        (base.to_owned(), ext.to_owned())
    }

    #[test]
    fn stored_names_are_snake_cased_and_suffixed() {
        assert_eq!(
            shape(&stored_name("Hello World.PNG")),
            ("hello_world".into(), "png".into())
        );
        assert_eq!(
            shape(&stored_name("myFile.tar.gz")),
            ("my_file_tar".into(), "gz".into())
        );
        assert_eq!(shape(&stored_name("report")), ("report".into(), "".into()));
        let (base, _) = shape(&stored_name("a.txt"));
        assert_eq!(base.len(), 10);
    }

    #[test]
    fn stored_names_are_safe_whatever_the_input() {
        for evil in [
            "../../etc/passwd",
            "..\\..\\win.ini",
            ".htaccess",
            "a/b/../c.txt",
            "x.\u{0}\u{202e}gpj",
            "..",
            "",
            "日本語.txt",
        ] {
            let name = stored_name(evil);
            assert!(safe_segment(&name), "{evil:?} → {name:?}");
        }
    }

    #[test]
    fn unsafe_segments_are_refused() {
        for bad in ["", ".", "..", ".hidden", "a/b", "a\\b", "a b", "a\u{0}"] {
            assert!(!safe_segment(bad), "{bad:?}");
        }
        assert!(safe_segment("pbc_123"));
        assert!(safe_segment("thumbs_a_1234567890.png"));
    }
}
