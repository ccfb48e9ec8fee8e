//! `commit`: every write, with its index, reverse, insertion-order and change-log
//! entries, made durable in the write-ahead log and then applied to sled.
//!
//! Everything that can be computed from the writes alone (encodings, index keys,
//! relation targets) is computed before the commit lock is taken. Under it, a batch of
//! queued commits is applied to an [`Overlay`] of the trees, one commit after another
//! (each reads stored state through the writes of the commits before it: existence,
//! the stored bytes for the conflict check, unique holders), then the batch's writes
//! go to the log as one record, are synced, and are applied to sled. The seq counter
//! lives in `meta` and is only written under the lock, so seqs are allocated in commit
//! order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ::sled::{IVec, Tree};
use basalt_core::schema::Collection;
use basalt_core::store::{Action, Seq, Write};

use super::wal::{self, TreeWrites, Wal};
use super::{Handles, SledStore};
use crate::layout::{reads_as, same_slots, Derived};
use crate::{changes, keys, StorageError};

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

/// A collection taking part in a batch, and where its trees sit in the overlay.
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

/// Commits waiting for a batch to carry them, oldest first. The commit at the front
/// leads: it carries every commit queued behind it in one batch, then wakes each of
/// them with its result and the new front to lead the next batch. Each waiter is
/// woken once, by the leader, and the next batch starts as soon as the last one is
/// done (waiting on the commit lock instead would hand it from waiter to waiter, one
/// wakeup after another, before the next batch could start).
pub(super) type Queue = parking_lot::Mutex<VecDeque<Waiting>>;

pub(super) struct Waiting {
    ticket: Arc<Ticket>,
    /// Taken by the leader that carries the commit.
    writes: Option<Vec<(Arc<Handles>, Prepared)>>,
}

/// A queued commit's result, and what wakes its caller (used with the queue's lock).
#[derive(Default)]
struct Ticket {
    outcome: parking_lot::Mutex<Option<Result<Seq, StorageError>>>,
    wake: parking_lot::Condvar,
}

/// A commit in a batch being carried.
struct Queued {
    writes: Vec<(Arc<Handles>, Prepared)>,
    ticket: Arc<Ticket>,
}

/// The writes of a batch over the stored trees: reads see the writes of the batch's
/// earlier commits, and a failing commit's writes are dropped alone.
struct Overlay<'t> {
    trees: &'t [Tree],
    /// Writes of the commits that succeeded so far, per tree.
    done: Vec<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// Writes of the commit being applied, per tree.
    open: Vec<HashMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl<'t> Overlay<'t> {
    fn new(trees: &'t [Tree]) -> Overlay<'t> {
        Overlay {
            trees,
            done: vec![HashMap::new(); trees.len()],
            open: vec![HashMap::new(); trees.len()],
        }
    }

    fn get(&self, tree: usize, key: &[u8]) -> Result<Option<IVec>, StorageError> {
        for layer in [&self.open, &self.done] {
            if let Some(value) = layer.get(tree).and_then(|t| t.get(key)) {
                return Ok(value.as_deref().map(IVec::from));
            }
        }
        let stored = self.trees.get(tree).ok_or_else(|| missing(tree))?;
        Ok(stored.get(key)?)
    }

    fn set(&mut self, tree: usize, key: &[u8], value: Option<&[u8]>) -> Result<(), StorageError> {
        let layer = self.open.get_mut(tree).ok_or_else(|| missing(tree))?;
        layer.insert(key.to_vec(), value.map(<[u8]>::to_vec));
        Ok(())
    }

    fn insert(&mut self, tree: usize, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.set(tree, key, Some(value))
    }

    fn remove(&mut self, tree: usize, key: &[u8]) -> Result<(), StorageError> {
        self.set(tree, key, None)
    }

    /// Ends the open commit: its writes join the batch, or are dropped.
    fn close(&mut self, keep: bool) {
        for (done, open) in self.done.iter_mut().zip(&mut self.open) {
            if keep {
                done.extend(open.drain());
            } else {
                open.clear();
            }
        }
    }

    /// The batch's writes, by tree (trees it does not write are left out).
    fn into_writes(self) -> Vec<(&'t Tree, TreeWrites)> {
        self.trees
            .iter()
            .zip(self.done)
            .filter(|(_, w)| !w.is_empty())
            .map(|(tree, w)| (tree, w.into_iter().collect()))
            .collect()
    }
}

fn missing(tree: usize) -> StorageError {
    StorageError::Corrupt(format!("batch tree {tree} missing"))
}

impl SledStore {
    /// Commits `writes` atomically and durably, and returns the seq of the last one.
    ///
    /// Concurrent commits share log records: each queues its prepared writes, and the
    /// one at the front of the queue carries every queued commit in one record and one
    /// sync, while the commits arriving meanwhile queue for the next. A commit
    /// that fails (a taken id, a conflict, a unique index) is dropped from the batch
    /// with its error, so commits succeed or fail exactly as they would one at a time,
    /// in queue order. Each caller holds the registry shared until its result is back,
    /// so no schema change runs under a queued commit.
    pub(super) fn commit_inner(&self, writes: &[Write]) -> Result<Seq, StorageError> {
        if writes.is_empty() {
            return Ok(self.last_seq());
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
        let ticket = Arc::new(Ticket::default());
        let mut queue = self.queue.lock();
        queue.push_back(Waiting {
            ticket: ticket.clone(),
            writes: Some(staged),
        });
        loop {
            if let Some(result) = ticket.outcome.lock().take() {
                return result;
            }
            if queue
                .front()
                .is_some_and(|w| Arc::ptr_eq(&w.ticket, &ticket))
            {
                break;
            }
            ticket.wake.wait(&mut queue);
        }
        // This commit leads: every commit queued so far goes into its batch.
        let batch: Vec<Queued> = queue
            .iter_mut()
            .filter_map(|w| {
                w.writes.take().map(|writes| Queued {
                    writes,
                    ticket: w.ticket.clone(),
                })
            })
            .collect();
        let carried = queue.len();
        drop(queue);
        self.carry(&mut self.commit_lock.lock(), batch);
        let mut queue = self.queue.lock();
        for done in queue.drain(..carried) {
            done.ticket.wake.notify_one();
        }
        if let Some(next) = queue.front() {
            next.ticket.wake.notify_one();
        }
        drop(queue);
        drop(registry);
        let result = ticket.outcome.lock().take();
        result.unwrap_or_else(|| Err(StorageError::Corrupt("a queued commit was lost".into())))
    }

    /// Applies `batch` (called with the commit lock held), leaving each commit's result
    /// in its outcome.
    fn carry(&self, wal: &mut Wal, batch: Vec<Queued>) {
        let mut parts: Vec<Part> = Vec::new();
        let mut trees: Vec<Tree> = vec![self.meta.clone(), self.changes.clone()];
        for queued in &batch {
            for (handles, _) in &queued.writes {
                if !parts.iter().any(|p| Arc::ptr_eq(&p.handles, handles)) {
                    let base = trees.len();
                    trees.extend([handles.records.clone(), handles.order.clone()]);
                    trees.extend(handles.indexes.iter().cloned());
                    trees.extend(handles.reverse.iter().cloned());
                    parts.push(Part {
                        handles: handles.clone(),
                        base,
                    });
                }
            }
        }
        let part = |handles: &Arc<Handles>| parts.iter().find(|p| Arc::ptr_eq(&p.handles, handles));
        let saved = self.save_pre_images(batch.iter().flat_map(|q| {
            q.writes
                .iter()
                .map(|(handles, p)| (&**handles, p.id.as_str()))
        }));
        if let Err(e) = saved {
            return fail_all(&batch, &e);
        }
        let mut seq = match self.meta.get(keys::SEQ_KEY) {
            Ok(v) => v.and_then(|v| keys::read_seq(&v)).unwrap_or(0),
            Err(e) => return fail_all(&batch, &e.into()),
        };
        let mut overlay = Overlay::new(&trees);
        let mut results = Vec::with_capacity(batch.len());
        for queued in &batch {
            let before = seq;
            let applied = queued.writes.iter().try_for_each(|(handles, prepared)| {
                let part = part(handles)
                    .ok_or_else(|| StorageError::Corrupt("a batch lost a collection".into()))?;
                seq += 1;
                apply_logged(&mut overlay, prepared, part, seq)
            });
            overlay.close(applied.is_ok());
            results.push(match applied {
                Ok(()) => Ok(seq),
                Err(e) => {
                    seq = before;
                    Err(e)
                }
            });
        }
        let written =
            self.write_through(wal, overlay, &parts, seq, results.iter().any(Result::is_ok));
        for (queued, result) in batch.iter().zip(results) {
            *queued.ticket.outcome.lock() = Some(match (&written, result) {
                (Err(e), Ok(_)) => Err(copy(e)),
                (_, result) => result,
            });
        }
    }

    /// Makes the batch's writes durable in the log, then applies them to sled.
    fn write_through(
        &self,
        wal: &mut Wal,
        mut overlay: Overlay<'_>,
        parts: &[Part],
        seq: Seq,
        any: bool,
    ) -> Result<(), StorageError> {
        if !any {
            return Ok(());
        }
        overlay.insert(META, keys::SEQ_KEY, &keys::seq_bytes(seq))?;
        overlay.close(true);
        let writes = overlay.into_writes();
        let names: Vec<IVec> = writes.iter().map(|(tree, _)| tree.name()).collect();
        let payload = wal::encode(
            names
                .iter()
                .map(|n| &n[..])
                .zip(writes.iter().map(|(_, w)| w)),
        );
        if !wal.fits(payload.len()) {
            self.checkpoint(wal)?;
        }
        wal.append(&payload, &self.wal_stats)?;
        let applied = writes
            .iter()
            .try_for_each(|(tree, writes)| apply_writes(tree, writes));
        for part in parts {
            let records = part.handles.records.name();
            let Some((_, writes)) = writes.iter().find(|(tree, _)| tree.name() == records) else {
                continue;
            };
            let cache = &part.handles.cache;
            if applied.is_ok() {
                cache.write(writes.iter().map(|(id, v)| (&id[..], v.as_deref())));
            } else {
                // Some of the writes may have been applied, some not.
                cache.forget(writes.iter().map(|(id, _)| &id[..]));
            }
        }
        applied?;
        self.durable_to(seq);
        Ok(())
    }
}

/// Applies a tree's writes one by one: a sled batch (or transaction) would seal and
/// write an IO buffer of its own, which is what the log saves, and the log makes the
/// writes atomic across a crash anyway.
pub(super) fn apply_writes(tree: &Tree, writes: &TreeWrites) -> Result<(), StorageError> {
    for (key, value) in writes {
        match value {
            Some(v) => tree.insert(&key[..], &v[..])?,
            None => tree.remove(key)?,
        };
    }
    Ok(())
}

/// A copy of `e` for one more commit of a failed batch.
fn copy(e: &StorageError) -> StorageError {
    match e {
        StorageError::Engine(engine) => StorageError::Engine(engine.clone()),
        other => StorageError::Corrupt(other.to_string()),
    }
}

/// Gives every commit of `batch` the error `e`.
fn fail_all(batch: &[Queued], e: &StorageError) {
    for queued in batch {
        *queued.ticket.outcome.lock() = Some(Err(copy(e)));
    }
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

/// Applies one write to `overlay` and logs it in the change log under `seq`.
fn apply_logged(
    overlay: &mut Overlay<'_>,
    p: &Prepared,
    part: &Part,
    seq: Seq,
) -> Result<(), StorageError> {
    let deleted = match p.action {
        Action::Delete => overlay
            .get(part.records(), p.id.as_bytes())?
            .and_then(|v| keys::split_record_value(&v).map(|(_, body)| body.to_vec())),
        _ => None,
    };
    apply(overlay, p, part, seq)?;
    let collection_id = &part.handles.layout.def.id;
    overlay.insert(
        CHANGES,
        &keys::seq_bytes(seq),
        &changes::encode(collection_id, &p.id, p.action, deleted.as_deref()),
    )
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

fn apply(
    overlay: &mut Overlay<'_>,
    p: &Prepared,
    part: &Part,
    seq: Seq,
) -> Result<(), StorageError> {
    let records = part.records();
    let stored = overlay.get(records, p.id.as_bytes())?;
    let (created, recomputed) = match (&p.expected, stored) {
        (None, Some(_)) => return Err(StorageError::IdExists(p.id.clone())),
        (None, None) => (seq, None),
        (Some(_), None) => return Err(StorageError::Conflict(p.id.clone())),
        (Some(expected), Some(stored)) => {
            let Some((created, body)) = keys::split_record_value(&stored) else {
                return Err(StorageError::Corrupt(format!(
                    "record {} has no creation seq",
                    p.id
                )));
            };
            if body == expected.as_slice() && !p.stale {
                (created, None)
            } else {
                if !reads_as(&p.writer, body, expected)? {
                    return Err(StorageError::Conflict(p.id.clone()));
                }
                (created, Some(recompute(p, part, body)?))
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
        let index = part.index(i);
        if let Some((key, value)) = old {
            let holder = if ix.unique {
                overlay.get(index, key)?
            } else {
                None
            };
            if !ix.unique || holder.as_deref() == Some(value.as_slice()) {
                overlay.remove(index, key)?;
            }
        }
        if let Some((key, value)) = new {
            if ix.unique
                && overlay
                    .get(index, key)?
                    .is_some_and(|holder| holder != p.id.as_bytes())
            {
                return Err(crate::write::not_unique(
                    &ix.name,
                    &ix.column_names,
                    p.action,
                ));
            }
            overlay.insert(index, key, value)?;
        }
    }
    for (i, (old, new)) in old.targets.iter().zip(&new.targets).enumerate() {
        let reverse = part.reverse(i);
        for gone in old.difference(new) {
            overlay.remove(reverse, &keys::reverse_key(gone, &p.id))?;
        }
        for added in new.difference(old) {
            overlay.insert(reverse, &keys::reverse_key(added, &p.id), &[])?;
        }
    }
    let order = part.order();
    match bytes {
        Some(bytes) => {
            overlay.insert(
                records,
                p.id.as_bytes(),
                &keys::record_value(created, bytes),
            )?;
            if p.action == Action::Create {
                overlay.insert(order, &keys::order_key(created, &p.id), &[])?;
            }
        }
        None => {
            overlay.remove(records, p.id.as_bytes())?;
            overlay.remove(order, &keys::order_key(created, &p.id))?;
        }
    }
    Ok(())
}
