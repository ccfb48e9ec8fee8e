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
pub(super) struct Prepared {
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

/// A commit waiting in [`SledStore::queue`] for a transaction to carry it.
pub(super) struct Queued {
    writes: Vec<(Arc<Handles>, Prepared)>,
    outcome: Arc<Outcome>,
}

/// Where the transaction that carried a commit leaves its result.
type Outcome = parking_lot::Mutex<Option<Result<Seq, StorageError>>>;

/// Why a combined transaction gave up: the commit that failed, and its error.
#[derive(Debug)]
struct Failed {
    commit: usize,
    error: StorageError,
}

impl SledStore {
    /// Commits `writes` atomically and returns the seq of the last one.
    ///
    /// Concurrent commits share transactions: each queues its prepared writes, and
    /// whichever holds the commit lock next carries every queued commit in one sled
    /// transaction (sled seals and writes an IO buffer per transaction, so this is
    /// what keeps the log writer off the hot path). A commit that fails (a taken id,
    /// a conflict, a unique index) is taken out with its error and the rest are
    /// retried, so commits succeed or fail exactly as they would one at a time, in
    /// queue order. Each caller holds the registry shared until its result is back,
    /// so no schema change runs under a queued commit.
    pub(super) fn commit_inner(&self, writes: &[Write]) -> Result<Seq, StorageError> {
        if writes.is_empty() {
            return Ok(self.group.last_committed());
        }
        let registry = self.registry.read_recursive();
        let mut handles: Vec<Arc<Handles>> = Vec::new();
        let mut staged = Vec::with_capacity(writes.len());
        for write in writes {
            let writer = write.collection();
            let h = match handles.iter().find(|h| h.layout.def.id == writer.id) {
                Some(h) => h.clone(),
                None => {
                    let h = registry
                        .get(&writer.id)
                        .cloned()
                        .ok_or_else(|| StorageError::CollectionNotFound(writer.id.clone()))?;
                    handles.push(h.clone());
                    h
                }
            };
            let prepared = prepare(write, &h)?;
            staged.push((h, prepared));
        }
        let outcome = Arc::new(Outcome::new(None));
        self.queue.lock().push(Queued {
            writes: staged,
            outcome: outcome.clone(),
        });
        let serial = self.commit_lock.lock();
        let carried = outcome.lock().take();
        let result = match carried {
            Some(result) => result,
            None => {
                let batch = std::mem::take(&mut *self.queue.lock());
                self.carry(batch);
                let result = outcome.lock().take();
                result.unwrap_or_else(|| {
                    Err(StorageError::Corrupt("a queued commit was lost".into()))
                })
            }
        };
        drop(serial);
        drop(registry);
        result
    }

    /// Runs `batch` as one transaction (called with the commit lock held), leaving
    /// each commit's result in its outcome.
    fn carry(&self, mut batch: Vec<Queued>) {
        while !batch.is_empty() {
            let mut parts: Vec<Part> = Vec::new();
            let mut trees: Vec<Tree> = vec![self.meta.clone(), self.changes.clone()];
            let mut items: Vec<Item<'_>> = Vec::new();
            for (commit, queued) in batch.iter().enumerate() {
                for (handles, prepared) in &queued.writes {
                    let coll = match parts.iter().position(|p| Arc::ptr_eq(&p.handles, handles)) {
                        Some(i) => i,
                        None => {
                            let base = trees.len();
                            trees.extend([handles.records.clone(), handles.order.clone()]);
                            trees.extend(handles.indexes.iter().cloned());
                            trees.extend(handles.reverse.iter().cloned());
                            parts.push(Part {
                                handles: handles.clone(),
                                base,
                            });
                            parts.len() - 1
                        }
                    };
                    items.push(Item {
                        commit,
                        coll,
                        prepared,
                    });
                }
            }
            let saved = self.save_pre_images(
                items
                    .iter()
                    .filter_map(|i| Some((&*parts.get(i.coll)?.handles, i.prepared.id.as_str()))),
            );
            if let Err(e) = saved {
                return fail_all(&batch, e);
            }
            let result = Transactional::<Failed>::transaction(
                trees.as_slice(),
                |views: &Vec<TransactionalTree>| apply_all(views, &items, &parts, batch.len()),
            );
            drop(items);
            match result {
                Ok(seqs) => {
                    if let Some(last) = seqs.iter().max() {
                        self.group.committed(*last);
                    }
                    for (queued, seq) in batch.iter().zip(seqs) {
                        *queued.outcome.lock() = Some(Ok(seq));
                    }
                    return;
                }
                Err(TransactionError::Abort(Failed { commit, error })) => {
                    if commit >= batch.len() {
                        return fail_all(&batch, error);
                    }
                    let failed = batch.remove(commit);
                    *failed.outcome.lock() = Some(Err(error));
                }
                Err(TransactionError::Storage(e)) => return fail_all(&batch, e.into()),
            }
        }
    }
}

/// Gives every commit of `batch` the error `e`.
fn fail_all(batch: &[Queued], e: StorageError) {
    for queued in batch {
        let error = match &e {
            StorageError::Engine(engine) => StorageError::Engine(engine.clone()),
            other => StorageError::Corrupt(other.to_string()),
        };
        *queued.outcome.lock() = Some(Err(error));
    }
}

/// One write of a combined transaction.
struct Item<'a> {
    /// Index into the batch.
    commit: usize,
    /// Index into the transaction's collections.
    coll: usize,
    prepared: &'a Prepared,
}

fn prepare(write: &Write, handles: &Handles) -> Result<Prepared, StorageError> {
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

/// Applies every item in order, each commit's writes taking the next seqs, and returns
/// the last seq of each of the `commits` commits.
fn apply_all(
    views: &[TransactionalTree],
    items: &[Item<'_>],
    parts: &[Part],
    commits: usize,
) -> Result<Vec<Seq>, ConflictableTransactionError<Failed>> {
    let unattributed = |e: Abort| blame(usize::MAX, e);
    let meta = tree(views, META).map_err(unattributed)?;
    let mut seq = match meta.get(keys::SEQ_KEY)? {
        Some(v) => match keys::read_seq(&v) {
            Some(s) => s,
            None => {
                return Err(unattributed(Abort::Abort(StorageError::Corrupt(
                    "meta seq".into(),
                ))))
            }
        },
        None => 0,
    };
    let mut last = vec![seq; commits];
    for item in items {
        seq += 1;
        apply_logged(views, item, parts, seq).map_err(|e| blame(item.commit, e))?;
        if let Some(l) = last.get_mut(item.commit) {
            *l = seq;
        }
    }
    meta.insert(keys::SEQ_KEY, &keys::seq_bytes(seq))?;
    Ok(last)
}

/// Attributes an abort to the commit whose write raised it.
fn blame(commit: usize, e: Abort) -> ConflictableTransactionError<Failed> {
    match e {
        Abort::Abort(error) => ConflictableTransactionError::Abort(Failed { commit, error }),
        Abort::Conflict => ConflictableTransactionError::Conflict,
        Abort::Storage(e) => ConflictableTransactionError::Storage(e),
    }
}

/// Applies one write and logs it in the change log under `seq`.
fn apply_logged(
    views: &[TransactionalTree],
    item: &Item<'_>,
    parts: &[Part],
    seq: Seq,
) -> Result<(), Abort> {
    let p = item.prepared;
    let Some(part) = parts.get(item.coll) else {
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
    Ok(())
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
