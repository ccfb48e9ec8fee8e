//! JSON written straight into a buffer, byte for byte as `serde_json` writes it, for
//! the responses that carry many records (list pages). `serde_json` checks every
//! byte of a string against its escape table one at a time; most stored text needs
//! no escaping at all, and [`write_str`] finds that out a block of bytes at a time
//! and copies the text as it is.

use serde_json::Value as Json;

/// `s` as a JSON string, exactly as `serde_json` writes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if needs_escaping(s.as_bytes()) {
        // The rare case: serde_json's own escaping, so the output cannot differ.
        // Writing into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
        return;
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Whether any byte of `bytes` is one JSON escapes: a quote, a backslash or a control
/// character (`serde_json` escapes nothing else). Checks eight bytes at a time.
fn needs_escaping(bytes: &[u8]) -> bool {
    let word = |at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        word_needs_escaping(u64::from_le_bytes(w))
    };
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    // Whole words, then the last eight bytes (overlapping the words before them).
    (0..len / 8).any(|i| word(i * 8)) || word(len - 8)
}

/// Whether any of the eight bytes in `w` is below 0x20, a quote or a backslash.
/// Byte-parallel arithmetic: a byte below `n` (at most 0x80) borrows in `w - n` while
/// its top bit was clear; a byte equal to `c` is a zero byte of `w ^ c`. A borrow may
/// mark bytes above a hit too, never a word without one.
fn word_needs_escaping(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & TOPS;
    let control = below(w, 0x20);
    let quote = below(w ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(w ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash != 0
}

/// `value` as `serde_json::to_writer` writes it, strings through [`write_str`].
pub fn write_value(out: &mut Vec<u8>, value: &Json) {
    match value {
        Json::String(s) => write_str(out, s),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Json::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
        // Null, booleans and numbers: serde_json's own forms. Writing into a `Vec`
        // cannot fail.
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// A JSON object being written into a buffer: entries in order, then [`Object::end`].
pub struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    pub fn begin(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Writes `"key":` and returns the buffer, for the caller to write the value.
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    pub fn str(&mut self, key: &str, value: &str) {
        write_str(self.key(key), value);
    }

    pub fn value(&mut self, key: &str, value: &Json) {
        write_value(self.key(key), value);
    }

    pub fn end(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn str_json(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    fn value_json(v: &Json) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_match_serde_json_in_and_across_blocks() {
        let long = "x".repeat(8 * 4 + 5);
        let mut cases = vec![
            String::new(),
            "plain".into(),
            "a \"quoted\" \\ path".into(),
            "tab\tnew\nline\r\u{8}\u{c}\u{1}\u{1f}".into(),
            "\u{7f} \u{e9} \u{2028} \u{1f600} / <script>".into(),
            long.clone(),
        ];
        // Every position of an escaped byte, in the words and in the tail.
        for at in 0..long.len() {
            for special in ["\"", "\\", "\n", "\u{0}", "\u{1f}"] {
                let mut s = long.clone();
                s.replace_range(at..at + 1, special);
                cases.push(s);
            }
        }
        for s in cases {
            assert_eq!(str_json(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn values_match_serde_json() {
        let v = json!({
            "s": "a\"b", "n": 1, "f": -2.5, "big": 1e300, "t": true, "no": null,
            "list": [1, "two", [3, {"x": "\n"}], {}], "empty": [],
            "nested": {"k": {"j": [null, false]}},
        });
        assert_eq!(value_json(&v), serde_json::to_string(&v).unwrap());
        let mut out = Vec::new();
        let mut object = Object::begin(&mut out);
        object.value("a\"", &json!(1));
        object.str("b", "x");
        object.key("c").extend_from_slice(b"[]");
        object.end();
        assert_eq!(out, b"{\"a\\\"\":1,\"b\":\"x\",\"c\":[]}");
        let mut out = Vec::new();
        Object::begin(&mut out).end();
        assert_eq!(out, b"{}");
    }

    fn json_value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            any::<f64>().prop_map(Json::from),
            any::<String>().prop_map(Json::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Json::from),
                prop::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|kv| Json::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_string_matches_serde_json(s in any::<String>()) {
            prop_assert_eq!(str_json(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn any_value_matches_serde_json(v in json_value()) {
            prop_assert_eq!(value_json(&v), serde_json::to_string(&v).unwrap());
        }
    }
}
