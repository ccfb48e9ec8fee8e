//! Tree names and key encodings of the on-disk layout (see the crate docs).

/// The on-disk format this build writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 3;

pub(crate) const META: &str = "meta";
pub(crate) const COLLECTIONS: &str = "collections";
pub(crate) const CHANGES: &str = "changes";

pub(crate) const FORMAT_KEY: &[u8] = b"format";
pub(crate) const SEQ_KEY: &[u8] = b"seq";
/// The app settings document, in the meta tree.
pub(crate) const SETTINGS_KEY: &[u8] = b"settings";

pub(crate) fn records_tree(collection_id: &str) -> String {
    format!("r/{collection_id}")
}

pub(crate) fn order_tree(collection_id: &str) -> String {
    format!("o/{collection_id}")
}

pub(crate) fn index_tree(collection_id: &str, index: &str, sig: u64) -> String {
    format!("i/{collection_id}/{index}/{sig:016x}")
}

pub(crate) fn reverse_tree(collection_id: &str, field_id: &str) -> String {
    format!("x/{collection_id}/{field_id}")
}

/// Whether a tree of this name holds data of some collection (as opposed to `meta`,
/// `collections`, `changes` or sled's own trees).
pub(crate) fn is_collection_tree(name: &[u8]) -> bool {
    [b"r/", b"o/", b"i/", b"x/"]
        .iter()
        .any(|p| name.starts_with(*p))
}

/// Whether the tree `name` belongs to the collection `collection_id`.
pub(crate) fn belongs_to(name: &[u8], collection_id: &str) -> bool {
    let id = collection_id.as_bytes();
    let Some(rest) = name.get(2..) else {
        return false;
    };
    match name.get(..2) {
        Some(b"r/") | Some(b"o/") => rest == id,
        Some(b"i/") | Some(b"x/") => rest
            .strip_prefix(id)
            .is_some_and(|r| r.first() == Some(&b'/')),
        _ => false,
    }
}

pub(crate) fn seq_bytes(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub(crate) fn read_seq(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// The value of a record: its creation seq, then its encoded fields.
pub(crate) fn record_value(created: u64, encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + encoded.len());
    out.extend_from_slice(&seq_bytes(created));
    out.extend_from_slice(encoded);
    out
}

/// Splits a stored record value into its creation seq and encoded fields.
pub(crate) fn split_record_value(value: &[u8]) -> Option<(u64, &[u8])> {
    Some((read_seq(value)?, value.get(8..)?))
}

pub(crate) fn order_key(created: u64, id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + id.len());
    out.extend_from_slice(&seq_bytes(created));
    out.extend_from_slice(id.as_bytes());
    out
}

/// The record id at the end of an insertion-order key.
pub(crate) fn order_key_id(key: &[u8]) -> Option<&[u8]> {
    key.get(8..)
}

pub(crate) fn reverse_prefix(target: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(target.len() + 1);
    out.extend_from_slice(target.as_bytes());
    out.push(0);
    out
}

pub(crate) fn reverse_key(target: &str, id: &str) -> Vec<u8> {
    let mut out = reverse_prefix(target);
    out.extend_from_slice(id.as_bytes());
    out
}

/// The smallest key greater than every key that starts with `prefix`, or `None` when
/// there is none (the prefix is empty or all `0xff`).
pub(crate) fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < 0xff {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// The length of the first `n` values of an order-preserving index key
/// (`basalt_core::codec::put_index_value`), so that the record id that follows them in
/// a non-unique index key can be split off. `None` if the key is malformed.
pub(crate) fn index_values_len(key: &[u8], n: usize) -> Option<usize> {
    let mut pos = 0;
    for _ in 0..n {
        let tag = *key.get(pos)?;
        pos += 1;
        match tag {
            0x01 => {}
            0x02 => pos += 1,
            0x03 => pos += 8,
            0x04 | 0x05 => loop {
                let b = *key.get(pos)?;
                pos += 1;
                if b == 0 {
                    let next = *key.get(pos)?;
                    pos += 1;
                    if next == 0 {
                        break;
                    }
                }
            },
            _ => return None,
        }
        if pos > key.len() {
            return None;
        }
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_core::codec::index_key;
    use basalt_core::Value;
    use proptest::prelude::*;

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_map(Value::Number),
            ".*".prop_map(Value::Text),
            "[a\\x00\\xff]{0,6}".prop_map(Value::Text),
            prop::collection::vec(".{0,3}".prop_map(Value::Text), 0..3).prop_map(Value::List),
        ]
    }

    proptest! {
        #[test]
        fn index_values_len_splits_off_the_id(values in prop::collection::vec(scalar(), 0..4), id in "[a-z0-9]{0,15}") {
            let refs: Vec<&Value> = values.iter().collect();
            let mut key = index_key(&refs);
            let len = key.len();
            key.extend_from_slice(id.as_bytes());
            prop_assert_eq!(index_values_len(&key, values.len()), Some(len));
        }

        #[test]
        fn index_values_len_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40), n in 0usize..5) {
            if let Some(len) = index_values_len(&bytes, n) {
                prop_assert!(len <= bytes.len());
            }
        }

        #[test]
        fn successor_bounds_every_extension(prefix in prop::collection::vec(any::<u8>(), 0..6), tail in prop::collection::vec(any::<u8>(), 0..6)) {
            let mut extended = prefix.clone();
            extended.extend_from_slice(&tail);
            match successor(&prefix) {
                Some(s) => prop_assert!(extended < s && prefix < s),
                None => prop_assert!(prefix.iter().all(|&b| b == 0xff)),
            }
        }
    }

    #[test]
    fn trees_belong_to_their_collection_only() {
        assert!(belongs_to(records_tree("abc").as_bytes(), "abc"));
        assert!(!belongs_to(records_tree("abcd").as_bytes(), "abc"));
        assert!(belongs_to(index_tree("abc", "idx", 7).as_bytes(), "abc"));
        assert!(!belongs_to(index_tree("abcd", "idx", 7).as_bytes(), "abc"));
        assert!(belongs_to(reverse_tree("abc", "f1").as_bytes(), "abc"));
        assert!(!belongs_to(b"meta", "abc"));
        assert!(is_collection_tree(order_tree("x").as_bytes()));
        assert!(!is_collection_tree(CHANGES.as_bytes()));
    }

    #[test]
    fn record_values_round_trip() {
        let v = record_value(42, b"\x01abc");
        assert_eq!(split_record_value(&v), Some((42, &b"\x01abc"[..])));
        assert_eq!(split_record_value(b"short"), None);
    }
}
