//! Byte encodings shared by every key-value engine.
//!
//! - The record codec: a compact tagged binary form of `(slot, value)` pairs. Slots are
//!   stable per field (see `schema::Field::slot`), so renaming a field rewrites nothing.
//! - The index-key codec: an order-preserving encoding, so that byte order of keys is
//!   the sort order of the values they encode.

use crate::value::Value;

const RECORD_FORMAT: u8 = 1;

const T_NULL: u8 = 0;
const T_FALSE: u8 = 1;
const T_TRUE: u8 = 2;
const T_NUMBER: u8 = 3;
const T_TEXT: u8 = 4;
const T_LIST: u8 = 5;
const T_JSON: u8 = 6;

/// Why bytes could not be decoded: a corrupt or foreign value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("corrupt record encoding at byte {0}")]
pub struct DecodeError(pub usize);

/// Encodes `(slot, value)` pairs into the compact record form.
pub fn encode_record<'a>(pairs: impl IntoIterator<Item = (u32, &'a Value)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(RECORD_FORMAT);
    for (slot, value) in pairs {
        put_varint(&mut out, u64::from(slot));
        put_value(&mut out, value);
    }
    out
}

/// Decodes the compact record form back into `(slot, value)` pairs.
pub fn decode_record(bytes: &[u8]) -> Result<Vec<(u32, Value)>, DecodeError> {
    let mut pairs = Vec::new();
    visit_record(bytes, |slot, value| pairs.push((slot, value)))?;
    Ok(pairs)
}

/// [`decode_record`] without collecting: `visit` gets each `(slot, value)` in turn.
pub fn visit_record(bytes: &[u8], mut visit: impl FnMut(u32, Value)) -> Result<(), DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte()? != RECORD_FORMAT {
        return Err(DecodeError(0));
    }
    while r.pos < bytes.len() {
        let slot = u32::try_from(r.varint()?).map_err(|_| DecodeError(r.pos))?;
        visit(slot, r.value(0)?);
    }
    Ok(())
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(T_NULL),
        Value::Bool(false) => out.push(T_FALSE),
        Value::Bool(true) => out.push(T_TRUE),
        Value::Number(n) => {
            out.push(T_NUMBER);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Text(s) => {
            out.push(T_TEXT);
            put_bytes(out, s.as_bytes());
        }
        Value::List(items) => {
            out.push(T_LIST);
            put_varint(out, items.len() as u64);
            for item in items {
                put_value(out, item);
            }
        }
        Value::Json(j) => {
            out.push(T_JSON);
            put_bytes(out, j.to_string().as_bytes());
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Lists nest only inside json in practice; this bounds hostile input.
const MAX_DEPTH: usize = 32;

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(DecodeError(self.pos))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError(self.pos))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let len = usize::try_from(self.varint()?).map_err(|_| DecodeError(self.pos))?;
        let at = self.pos;
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| DecodeError(at))
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError(self.pos));
        }
        let at = self.pos;
        Ok(match self.byte()? {
            T_NULL => Value::Null,
            T_FALSE => Value::Bool(false),
            T_TRUE => Value::Bool(true),
            T_NUMBER => {
                let raw: [u8; 8] = self.take(8)?.try_into().map_err(|_| DecodeError(at))?;
                Value::Number(f64::from_le_bytes(raw))
            }
            T_TEXT => Value::Text(self.string()?),
            T_LIST => {
                let n = usize::try_from(self.varint()?).map_err(|_| DecodeError(at))?;
                // Every item takes at least one byte: refuse counts the input cannot hold.
                if n > self.bytes.len() - self.pos {
                    return Err(DecodeError(at));
                }
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            T_JSON => {
                let s = self.string()?;
                Value::Json(serde_json::from_str(&s).map_err(|_| DecodeError(at))?)
            }
            _ => return Err(DecodeError(at)),
        })
    }
}

/// Appends the order-preserving encoding of `value` to `out`: for two values of the
/// same field, `a < b` (by [`Value::total_cmp`]) iff their encodings compare the same
/// way bytewise. Used for secondary-index keys.
pub fn put_index_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(0x01),
        Value::Bool(b) => {
            out.push(0x02);
            out.push(u8::from(*b));
        }
        Value::Number(n) => {
            out.push(0x03);
            let bits = n.to_bits();
            let ordered = if bits >> 63 == 0 {
                bits | (1 << 63)
            } else {
                !bits
            };
            out.extend_from_slice(&ordered.to_be_bytes());
        }
        Value::Text(s) => {
            out.push(0x04);
            put_escaped(out, s.as_bytes());
        }
        Value::List(_) | Value::Json(_) => {
            out.push(0x05);
            put_escaped(out, value.to_json().to_string().as_bytes());
        }
    }
}

/// Text is written with `0x00` escaped as `0x00 0xff` and ended by `0x00 0x00`, so a
/// prefix sorts before its extensions and the key stays self-delimiting.
fn put_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// The index key for a tuple of values.
pub fn index_key(values: &[&Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    for v in values {
        put_index_value(&mut out, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value_strategy() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>()
                .prop_filter("nan never equals itself", |n| !n.is_nan())
                .prop_map(Value::Number),
            ".*".prop_map(Value::Text),
            any::<i32>()
                .prop_map(|n| Value::Json(serde_json::json!({ "n": n, "s": n.to_string() }))),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop::collection::vec(inner, 0..4).prop_map(Value::List)
        })
    }

    proptest! {
        #[test]
        fn record_round_trips(values in prop::collection::vec(value_strategy(), 0..8)) {
            let pairs: Vec<(u32, &Value)> = values.iter().enumerate().map(|(i, v)| (i as u32 * 7, v)).collect();
            let bytes = encode_record(pairs.iter().copied());
            let back = decode_record(&bytes).unwrap();
            prop_assert_eq!(back.len(), values.len());
            for ((slot, v), (want_slot, want)) in back.iter().zip(pairs) {
                prop_assert_eq!(*slot, want_slot);
                prop_assert_eq!(v, want);
            }
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_record(&bytes);
        }

        #[test]
        fn number_keys_sort_like_numbers(a in any::<f64>(), b in any::<f64>()) {
            prop_assume!(!a.is_nan() && !b.is_nan());
            let (ka, kb) = (index_key(&[&Value::Number(a)]), index_key(&[&Value::Number(b)]));
            prop_assert_eq!(ka.cmp(&kb), a.total_cmp(&b));
        }

        #[test]
        fn text_keys_sort_like_text(a in ".*", b in ".*", x in any::<bool>(), y in any::<bool>()) {
            let (va, vb) = (Value::Text(a.clone()), Value::Text(b.clone()));
            let ka = index_key(&[&va, &Value::Bool(x)]);
            let kb = index_key(&[&vb, &Value::Bool(y)]);
            prop_assert_eq!(ka.cmp(&kb), a.cmp(&b).then(x.cmp(&y)));
        }
    }
}
