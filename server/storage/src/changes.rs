//! The compact encoding of change-log entries: an action byte, the collection id
//! prefixed by its varint length, then the record id.

use basalt_core::store::{Action, Change, Seq};

const CREATE: u8 = 1;
const UPDATE: u8 = 2;
const DELETE: u8 = 3;

pub(crate) fn encode(collection_id: &str, record_id: &str, action: Action) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + collection_id.len() + record_id.len());
    out.push(match action {
        Action::Create => CREATE,
        Action::Update => UPDATE,
        Action::Delete => DELETE,
    });
    let mut n = collection_id.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(collection_id.as_bytes());
    out.extend_from_slice(record_id.as_bytes());
    out
}

/// Decodes one entry; `None` if the bytes are not an entry.
pub(crate) fn decode(seq: Seq, bytes: &[u8]) -> Option<Change> {
    let (&tag, mut rest) = bytes.split_first()?;
    let action = match tag {
        CREATE => Action::Create,
        UPDATE => Action::Update,
        DELETE => Action::Delete,
        _ => return None,
    };
    let mut len = 0usize;
    for shift in (0..35).step_by(7) {
        let (&b, tail) = rest.split_first()?;
        rest = tail;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            let collection = rest.get(..len)?;
            let record = rest.get(len..)?;
            return Some(Change {
                seq,
                collection_id: String::from_utf8(collection.to_vec()).ok()?,
                record_id: String::from_utf8(record.to_vec()).ok()?,
                action,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn entries_round_trip(c in ".{0,200}", r in "[a-z0-9]{0,20}", a in 0u8..3) {
            let action = [Action::Create, Action::Update, Action::Delete][usize::from(a)];
            let back = decode(9, &encode(&c, &r, action)).unwrap();
            prop_assert_eq!(back, Change { seq: 9, collection_id: c, record_id: r, action });
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode(1, &bytes);
        }
    }
}
