//! The compact encoding of change-log entries: an action byte, the collection id
//! prefixed by its varint length, then the record id. A delete that carries the
//! record's last stored bytes (`DELETE_WITH_RECORD`) prefixes the record id by its
//! varint length too, and the stored bytes follow it.

use basalt_core::store::{Action, Change, Seq};

const CREATE: u8 = 1;
const UPDATE: u8 = 2;
const DELETE: u8 = 3;
const DELETE_WITH_RECORD: u8 = 4;

/// A decoded entry: the change, and a delete's last stored record bytes.
pub(crate) type Entry = (Change, Option<Vec<u8>>);

pub(crate) fn encode(
    collection_id: &str,
    record_id: &str,
    action: Action,
    deleted: Option<&[u8]>,
) -> Vec<u8> {
    let extra = deleted.map_or(0, |d| d.len() + 5);
    let mut out = Vec::with_capacity(7 + collection_id.len() + record_id.len() + extra);
    out.push(match (action, deleted) {
        (Action::Create, _) => CREATE,
        (Action::Update, _) => UPDATE,
        (Action::Delete, None) => DELETE,
        (Action::Delete, Some(_)) => DELETE_WITH_RECORD,
    });
    put_len(&mut out, collection_id.len());
    out.extend_from_slice(collection_id.as_bytes());
    match deleted {
        Some(bytes) if action == Action::Delete => {
            put_len(&mut out, record_id.len());
            out.extend_from_slice(record_id.as_bytes());
            out.extend_from_slice(bytes);
        }
        _ => out.extend_from_slice(record_id.as_bytes()),
    }
    out
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let mut n = len as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint length and that many bytes; returns them and the rest.
fn take_prefixed(mut rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len = 0usize;
    for shift in (0..35).step_by(7) {
        let (&b, tail) = rest.split_first()?;
        rest = tail;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some((rest.get(..len)?, rest.get(len..)?));
        }
    }
    None
}

/// Decodes one entry; `None` if the bytes are not an entry.
pub(crate) fn decode(seq: Seq, bytes: &[u8]) -> Option<Entry> {
    let (&tag, rest) = bytes.split_first()?;
    let action = match tag {
        CREATE => Action::Create,
        UPDATE => Action::Update,
        DELETE | DELETE_WITH_RECORD => Action::Delete,
        _ => return None,
    };
    let (collection, rest) = take_prefixed(rest)?;
    let (record, deleted) = if tag == DELETE_WITH_RECORD {
        let (record, stored) = take_prefixed(rest)?;
        (record, Some(stored.to_vec()))
    } else {
        (rest, None)
    };
    let change = Change {
        seq,
        collection_id: String::from_utf8(collection.to_vec()).ok()?,
        record_id: String::from_utf8(record.to_vec()).ok()?,
        action,
        deleted: None,
    };
    Some((change, deleted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn entries_round_trip(c in ".{0,200}", r in "[a-z0-9]{0,20}", a in 0u8..3) {
            let action = [Action::Create, Action::Update, Action::Delete][usize::from(a)];
            let back = decode(9, &encode(&c, &r, action, None)).unwrap();
            let want = Change { seq: 9, collection_id: c, record_id: r, action, deleted: None };
            prop_assert_eq!(back, (want, None));
        }

        #[test]
        fn deletes_round_trip_with_their_record(
            c in ".{0,200}",
            r in "[a-z0-9]{0,20}",
            stored in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let back = decode(3, &encode(&c, &r, Action::Delete, Some(&stored))).unwrap();
            let want = Change {
                seq: 3,
                collection_id: c,
                record_id: r,
                action: Action::Delete,
                deleted: None,
            };
            prop_assert_eq!(back, (want, Some(stored)));
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode(1, &bytes);
        }
    }
}
