//! `commit`: every write, with its index, reverse, insertion-order and change-log
//! entries, in one sled transaction over all the trees involved.
//!
//! Everything that can be computed from the writes alone (encodings, index keys,
//! relation targets) is computed before the transaction: sled may run the closure more
//! than once, and holds its global transaction lock while it runs. Inside, the closure
//! only reads stored state (existence, the stored bytes for the conflict check, unique
//! holders, the seq counter) and writes. The seq counter lives in `meta`, so seqs are
//! allocated in commit order.

use std::sync::Arc;

use ::sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};
use ::sled::Tree;
use basalt_core::schema::Collection;
use basalt_core::store::{Action, Seq, Write};

use super::{Handles, SledStore};
use crate::layout::{reads_as, same_slots, Derived};
use crate::{changes, keys, StorageError};

type Abort = ConflictableTransactionError<StorageError>;

/// One write, ready to apply.
struct Prepared {
    /// Index into the commit's collections.
    coll: usize,
    id: String,
    action: Action,
    writer: Arc<Collection>,
    /// The writer's definition lays fields out unlike the stored one (a schema change
    /// raced this write): entries are recomputed from the stored bytes.
    stale: bool,
    /// The encoded record the writer read (update, delete).
    expected: Option<Vec<u8>>,
    /// The new encoded record (create, update).
    bytes: Option<Vec<u8>>,
    /// What the old and new versions put into indexes and reverse trees.
    old: Derived,
    new: Derived,
}

/// A collection taking part in a commit, and where its trees sit in the transaction.
struct Part {
    handles: Arc<Handles>,
    base: usize,
}

const META: usize = 0;
const CHANGES: usize = 1;

impl Part {
    fn records(&self) -> usize {
        self.base
    }
    fn order(&self) -> usize {
        self.base + 1
    }
    fn index(&self, i: usize) -> usize {
        self.base + 2 + i
    }
    fn reverse(&self, i: usize) -> usize {
        self.base + 2 + self.handles.indexes.len() + i
    }
}

impl SledStore {
    pub(super) fn commit_inner(&self, writes: &[Write]) -> Result<Seq, StorageError> {
        if writes.is_empty() {
            return Ok(self.group.last_committed());
        }
        let registry = self.registry.read_recursive();
        let mut parts: Vec<Part> = Vec::new();
        let mut trees: Vec<Tree> = vec![self.meta.clone(), self.changes.clone()];
        let mut prepared = Vec::with_capacity(writes.len());
        for write in writes {
            let writer = write.collection();
            let coll = match parts
                .iter()
                .position(|p| p.handles.layout.def.id == writer.id)
            {
                Some(i) => i,
                None => {
                    let handles = registry
                        .get(&writer.id)
                        .cloned()
                        .ok_or_else(|| StorageError::CollectionNotFound(writer.id.clone()))?;
                    let base = trees.len();
                    trees.extend([handles.records.clone(), handles.order.clone()]);
                    trees.extend(handles.indexes.iter().cloned());
                    trees.extend(handles.reverse.iter().cloned());
                    parts.push(Part { handles, base });
                    parts.len() - 1
                }
            };
            prepared.push(prepare(write, coll, &parts[coll].handles)?);
        }
        let serial = self.commit_lock.lock();
        self.save_pre_images(
            prepared
                .iter()
                .filter_map(|p| Some((&*parts.get(p.coll)?.handles, p.id.as_str()))),
        )?;
        let result = Transactional::<StorageError>::transaction(
            trees.as_slice(),
            |views: &Vec<TransactionalTree>| apply_all(views, &prepared, &parts),
        );
        drop(serial);
        drop(registry);
        match result {
            Ok(seq) => {
                self.group.committed(seq);
                Ok(seq)
            }
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }
}

fn prepare(write: &Write, coll: usize, handles: &Handles) -> Result<Prepared, StorageError> {
    let layout = &handles.layout;
    let crate::write::Parts {
        writer,
        old,
        new,
        action,
        id,
    } = crate::write::parts(write)?;
    let expected = old.map(|r| r.encode(writer));
    let bytes = new.map(|r| r.encode(writer));
    let old_aligned = match (old, &expected) {
        (Some(r), Some(b)) => Some(layout.align(writer, r, b)?),
        _ => None,
    };
    let new_aligned = match (new, &bytes) {
        (Some(r), Some(b)) => Some(layout.align(writer, r, b)?),
        _ => None,
    };
    Ok(Prepared {
        coll,
        id,
        action,
        writer: writer.clone(),
        stale: !same_slots(writer, &layout.def),
        old: layout.derive(old_aligned.as_deref()),
        new: layout.derive(new_aligned.as_deref()),
        expected,
        bytes,
    })
}

fn tree(views: &[TransactionalTree], i: usize) -> Result<&TransactionalTree, Abort> {
    views.get(i).ok_or_else(|| {
        Abort::Abort(StorageError::Corrupt(format!(
            "transaction tree {i} missing"
        )))
    })
}

fn abort<T>(e: StorageError) -> Result<T, Abort> {
    Err(Abort::Abort(e))
}

fn apply_all(
    views: &[TransactionalTree],
    prepared: &[Prepared],
    parts: &[Part],
) -> Result<Seq, Abort> {
    let meta = tree(views, META)?;
    let mut seq = match meta.get(keys::SEQ_KEY)? {
        Some(v) => match keys::read_seq(&v) {
            Some(s) => s,
            None => return abort(StorageError::Corrupt("meta seq".into())),
        },
        None => 0,
    };
    for p in prepared {
        seq += 1;
        let Some(part) = parts.get(p.coll) else {
            return abort(StorageError::Corrupt("commit part missing".into()));
        };
        let deleted = match p.action {
            Action::Delete => tree(views, part.records())?
                .get(p.id.as_bytes())?
                .and_then(|v| keys::split_record_value(&v).map(|(_, body)| body.to_vec())),
            _ => None,
        };
        apply(views, p, part, seq)?;
        let collection_id = &part.handles.layout.def.id;
        tree(views, CHANGES)?.insert(
            &keys::seq_bytes(seq),
            changes::encode(collection_id, &p.id, p.action, deleted.as_deref()),
        )?;
    }
    meta.insert(keys::SEQ_KEY, &keys::seq_bytes(seq))?;
    Ok(seq)
}

/// What a write puts in place of the prepared values when they cannot be trusted:
/// derived from the stored bytes instead.
struct Recomputed {
    old: Derived,
    bytes: Option<Vec<u8>>,
    new: Derived,
}

fn recompute(p: &Prepared, part: &Part, stored: &[u8]) -> Result<Recomputed, StorageError> {
    let layout = &part.handles.layout;
    let old = layout.derive(Some(&layout.decode(stored)?));
    let bytes = match &p.bytes {
        Some(b) if p.stale => Some(layout.keep_unknown(&p.writer, b, stored)?),
        other => other.clone(),
    };
    let new = match &bytes {
        Some(b) => layout.derive(Some(&layout.decode(b)?)),
        None => layout.derive(None),
    };
    Ok(Recomputed { old, bytes, new })
}

fn apply(views: &[TransactionalTree], p: &Prepared, part: &Part, seq: Seq) -> Result<(), Abort> {
    let records = tree(views, part.records())?;
    let stored = records.get(p.id.as_bytes())?;
    let (created, recomputed) = match (&p.expected, stored) {
        (None, Some(_)) => return abort(StorageError::IdExists(p.id.clone())),
        (None, None) => (seq, None),
        (Some(_), None) => return abort(StorageError::Conflict(p.id.clone())),
        (Some(expected), Some(stored)) => {
            let Some((created, body)) = keys::split_record_value(&stored) else {
                return abort(StorageError::Corrupt(format!(
                    "record {} has no creation seq",
                    p.id
                )));
            };
            if body == expected.as_slice() && !p.stale {
                (created, None)
            } else {
                match reads_as(&p.writer, body, expected) {
                    Ok(true) => {}
                    Ok(false) => return abort(StorageError::Conflict(p.id.clone())),
                    Err(e) => return abort(e),
                }
                match recompute(p, part, body) {
                    Ok(r) => (created, Some(r)),
                    Err(e) => return abort(e),
                }
            }
        }
    };
    let (old, bytes, new) = match &recomputed {
        Some(r) => (&r.old, &r.bytes, &r.new),
        None => (&p.old, &p.bytes, &p.new),
    };
    let layout = &part.handles.layout;
    let entries = layout.indexes.iter().zip(&old.entries).zip(&new.entries);
    for (i, ((ix, old), new)) in entries.enumerate() {
        if old == new {
            continue;
        }
        let index = tree(views, part.index(i))?;
        if let Some((key, value)) = old {
            let holder = if ix.unique {
                index.get(key.as_slice())?
            } else {
                None
            };
            if !ix.unique || holder.as_deref() == Some(value.as_slice()) {
                index.remove(key.as_slice())?;
            }
        }
        if let Some((key, value)) = new {
            if ix.unique
                && index
                    .get(key.as_slice())?
                    .is_some_and(|holder| holder != p.id.as_bytes())
            {
                return abort(crate::write::not_unique(
                    &ix.name,
                    &ix.column_names,
                    p.action,
                ));
            }
            index.insert(key.as_slice(), value.as_slice())?;
        }
    }
    for (i, (old, new)) in old.targets.iter().zip(&new.targets).enumerate() {
        let reverse = tree(views, part.reverse(i))?;
        for gone in old.difference(new) {
            reverse.remove(keys::reverse_key(gone, &p.id))?;
        }
        for added in new.difference(old) {
            reverse.insert(keys::reverse_key(added, &p.id), &[][..])?;
        }
    }
    let order = tree(views, part.order())?;
    match bytes {
        Some(bytes) => {
            records.insert(p.id.as_bytes(), keys::record_value(created, bytes))?;
            if p.action == Action::Create {
                order.insert(keys::order_key(created, &p.id), &[][..])?;
            }
        }
        None => {
            records.remove(p.id.as_bytes())?;
            order.remove(keys::order_key(created, &p.id))?;
        }
    }
    Ok(())
}
