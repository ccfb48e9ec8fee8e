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
use super::{Handles, Registry, SledStore};
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
/// leads: it carries every commit queued behind it in one batch, then hands each of
/// them its result and the front to the next leader. Each waiter is woken once, by the
/// leader, and the next batch starts as soon as the last one is done (waiting on the
/// commit lock instead would hand it from waiter to waiter, one wakeup after another,
/// before the next batch could start). A blocked caller at the front leads on its own
/// thread; a callback commit at the front is led by the [`Committer`] thread.
pub(super) type Queue = parking_lot::Mutex<VecDeque<Waiting>>;

pub(super) struct Waiting {
    waiter: Waiter,
    /// Taken by the leader that carries the commit.
    staged: Option<Staged>,
}

/// Who waits for a queued commit's result.
enum Waiter {
    /// A caller blocked in `commit_inner`, holding the registry shared until woken.
    Parked(Arc<Ticket>),
    /// A caller of `commit_then`, which holds nothing while it waits: called by the
    /// leader with the result.
    Callback(Done),
}

/// What a callback commit is called with.
pub(super) type Done = Box<dyn FnOnce(Result<Seq, StorageError>) + Send>;

/// A commit's writes, each prepared against its collection's handles.
type Staging = Vec<(Arc<Handles>, Prepared)>;

/// A queued commit's writes.
struct Staged {
    /// Prepared against the collections' handles current when it was queued.
    prepared: Staging,
    /// The writes themselves, kept by a commit that holds no registry guard while it
    /// waits: a schema change may replace its handles before it is carried (or it
    /// could not be prepared when queued), and then it is prepared again.
    writes: Option<Vec<Write>>,
}

impl Staged {
    /// The prepared writes, against the handles in `registry` (which the leader holds).
    fn ready(self, registry: &Registry) -> Result<Staging, StorageError> {
        let Some(writes) = self.writes else {
            return Ok(self.prepared);
        };
        let current = self.prepared.len() == writes.len()
            && self.prepared.iter().all(|(h, _)| {
                registry
                    .get(&h.layout.def.id)
                    .is_some_and(|now| Arc::ptr_eq(now, h))
            });
        if current {
            Ok(self.prepared)
        } else {
            prepare_all(registry, &writes)
        }
    }
}

/// A queued commit's result, and what wakes its caller (used with the queue's lock).
#[derive(Default)]
struct Ticket {
    outcome: parking_lot::Mutex<Option<Result<Seq, StorageError>>>,
    wake: parking_lot::Condvar,
}

/// The thread that leads batches whose front is a callback commit: nobody else is
/// blocked to lead them. It holds the store only while it leads, so dropping the store
/// ends it.
#[derive(Default)]
pub(super) struct Committer {
    signal: Arc<Signal>,
    /// Whether the thread started (set by the first `commit_then`).
    started: std::sync::OnceLock<bool>,
}

#[derive(Default)]
struct Signal {
    wanted: parking_lot::Mutex<bool>,
    wake: parking_lot::Condvar,
}

/// What leading a batch left to do: the callbacks of the commits it carried.
#[derive(Default)]
#[must_use = "the callbacks of a carried batch must be called"]
struct Led {
    calls: Vec<(Done, Result<Seq, StorageError>)>,
    /// A callback commit is at the front of the queue now.
    next_callback: bool,
}

impl Led {
    /// Calls the callbacks; returns whether a callback commit is at the front.
    fn deliver(self) -> bool {
        for (call, result) in self.calls {
            call(result);
        }
        self.next_callback
    }
}

impl Waiting {
    /// A callback commit no leader has taken yet.
    fn is_waiting_callback(&self) -> bool {
        matches!(self.waiter, Waiter::Callback(_)) && self.staged.is_some()
    }
}

impl Waiter {
    fn is(&self, ticket: &Arc<Ticket>) -> bool {
        matches!(self, Waiter::Parked(t) if Arc::ptr_eq(t, ticket))
    }
}

impl Signal {
    fn raise(&self) {
        *self.wanted.lock() = true;
        self.wake.notify_one();
    }
}

impl Committer {
    /// Starts the thread (the first time); false if it could not start.
    fn start(&self, store: &Arc<SledStore>) -> bool {
        *self.started.get_or_init(|| {
            let (signal, store) = (self.signal.clone(), Arc::downgrade(store));
            let spawned = std::thread::Builder::new()
                .name("basalt-commit".into())
                .spawn(move || loop {
                    {
                        let mut wanted = signal.wanted.lock();
                        while !*wanted {
                            signal.wake.wait(&mut wanted);
                        }
                        *wanted = false;
                    }
                    loop {
                        let Some(led) = store.upgrade().map(|s| s.lead_callbacks()) else {
                            return;
                        };
                        // The store is let go before anyone hears back: whoever
                        // drops it last after its callback closes it right there.
                        if !led.deliver() {
                            break;
                        }
                    }
                });
            spawned
                .inspect_err(|e| tracing::error!(error = %e, "the commit thread did not start"))
                .is_ok()
        })
    }

    /// Asks the thread to lead; false if it is not running (the caller leads then).
    fn wake(&self) -> bool {
        let running = self.started.get().copied().unwrap_or(false);
        if running {
            self.signal.raise();
        }
        running
    }

    /// Ends the thread once the store is gone (it finds nothing to upgrade).
    pub(super) fn stop(&self) {
        self.signal.raise();
    }
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
        let prepared = prepare_all(&registry, writes)?;
        let ticket = Arc::new(Ticket::default());
        let mut queue = self.queue.lock();
        queue.push_back(Waiting {
            waiter: Waiter::Parked(ticket.clone()),
            staged: Some(Staged {
                prepared,
                writes: None,
            }),
        });
        loop {
            if let Some(result) = ticket.outcome.lock().take() {
                return result;
            }
            if queue.front().is_some_and(|w| w.waiter.is(&ticket)) {
                break;
            }
            ticket.wake.wait(&mut queue);
        }
        drop(queue);
        if self.lead(&registry).deliver() && !self.committer.wake() {
            while self.lead(&registry).deliver() {}
        }
        drop(registry);
        let result = ticket.outcome.lock().take();
        result.unwrap_or_else(|| Err(StorageError::Corrupt("a queued commit was lost".into())))
    }

    /// Like [`SledStore::commit_inner`], but returns at once and calls `done` with the
    /// result (on another thread) instead of blocking: the writes are prepared here if
    /// no schema change holds the registry, and by the leader otherwise.
    pub(super) fn commit_then(self: &Arc<Self>, writes: Vec<Write>, done: Done) {
        if writes.is_empty() {
            return done(Ok(self.last_seq()));
        }
        let prepared = match self.registry.try_read_recursive() {
            Some(registry) => match prepare_all(&registry, &writes) {
                Ok(prepared) => prepared,
                Err(e) => return done(Err(e)),
            },
            None => Vec::new(),
        };
        // Started before the commit is queued: whoever leads the batch before it hands
        // it the front by waking the thread.
        self.committer.start(self);
        let mut queue = self.queue.lock();
        let front = queue.is_empty();
        queue.push_back(Waiting {
            waiter: Waiter::Callback(done),
            staged: Some(Staged {
                prepared,
                writes: Some(writes),
            }),
        });
        drop(queue);
        if front && !self.committer.wake() {
            // No thread to lead: lead here rather than leave the commit queued.
            while self.lead_callbacks().deliver() {}
        }
    }

    /// Leads the next batch if a callback commit is at the front of the queue (the
    /// committer thread's work), with what is left to deliver.
    fn lead_callbacks(&self) -> Led {
        let registry = self.registry.read_recursive();
        let front = self.queue.lock().front().map(|w| w.is_waiting_callback());
        if front == Some(true) {
            self.lead(&registry)
        } else {
            Led::default()
        }
    }

    /// Carries every queued commit in one batch (called by the front's waiter, with
    /// the registry held shared), hands out the results, and passes the front on: a
    /// parked waiter is woken to lead, the committer is asked to lead a callback.
    /// Returns the callbacks to call, and whether a callback commit is at the front.
    fn lead(&self, registry: &Registry) -> Led {
        let mut queue = self.queue.lock();
        let staged: Vec<Staged> = queue.iter_mut().filter_map(|w| w.staged.take()).collect();
        let carried = staged.len();
        drop(queue);
        let batch = staged.into_iter().map(|s| s.ready(registry)).collect();
        let results = self.carry(&mut self.commit_lock.lock(), batch);
        let mut queue = self.queue.lock();
        let mut calls = Vec::new();
        for (done, result) in queue.drain(..carried).zip(results) {
            match done.waiter {
                Waiter::Parked(ticket) => {
                    *ticket.outcome.lock() = Some(result);
                    ticket.wake.notify_one();
                }
                Waiter::Callback(call) => calls.push((call, result)),
            }
        }
        let next_callback = match queue.front().map(|w| &w.waiter) {
            Some(Waiter::Parked(ticket)) => {
                ticket.wake.notify_one();
                false
            }
            Some(Waiter::Callback(_)) => true,
            None => false,
        };
        drop(queue);
        Led {
            calls,
            next_callback,
        }
    }

    /// Applies `batch` (called with the commit lock held): each commit's result, in
    /// order. A commit that could not be prepared keeps its error.
    fn carry(
        &self,
        wal: &mut Wal,
        batch: Vec<Result<Staging, StorageError>>,
    ) -> Vec<Result<Seq, StorageError>> {
        let mut parts: Vec<Part> = Vec::new();
        let mut trees: Vec<Tree> = vec![self.meta.clone(), self.changes.clone()];
        for (handles, _) in batch.iter().flatten().flatten() {
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
        let part = |handles: &Arc<Handles>| parts.iter().find(|p| Arc::ptr_eq(&p.handles, handles));
        let saved = self.save_pre_images(
            batch
                .iter()
                .flatten()
                .flatten()
                .map(|(handles, p)| (&**handles, p.id.as_str())),
        );
        if let Err(e) = saved {
            return batch.iter().map(|_| Err(copy(&e))).collect();
        }
        let mut seq = match self.meta.get(keys::SEQ_KEY) {
            Ok(v) => v.and_then(|v| keys::read_seq(&v)).unwrap_or(0),
            Err(e) => {
                let e = e.into();
                return batch.iter().map(|_| Err(copy(&e))).collect();
            }
        };
        let mut overlay = Overlay::new(&trees);
        let mut results = Vec::with_capacity(batch.len());
        for writes in batch {
            let writes = match writes {
                Ok(writes) => writes,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let before = seq;
            let applied = writes.iter().try_for_each(|(handles, prepared)| {
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
        results
            .into_iter()
            .map(|result| match (&written, result) {
                (Err(e), Ok(_)) => Err(copy(e)),
                (_, result) => result,
            })
            .collect()
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

/// Prepares `writes` against the handles in `registry`.
fn prepare_all(registry: &Registry, writes: &[Write]) -> Result<Staging, StorageError> {
    let mut handles: Vec<Arc<Handles>> = Vec::new();
    let mut prepared = Vec::with_capacity(writes.len());
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
        let p = prepare(write, &h)?;
        prepared.push((h, p));
    }
    Ok(prepared)
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

#[cfg(test)]
mod tests {
    use basalt_core::store::RecordStore;

    use super::*;
    use crate::conformance::fixtures;
    use crate::disk::SledOptions;

    /// A callback commit prepared before a schema change replaced its collection's
    /// handles is prepared again against the new ones when carried: its record gets
    /// the entry of the index the change added (carrying it as first prepared leaves
    /// the index without it, which `verify` reports).
    #[test]
    fn a_commit_prepared_before_a_schema_change_is_prepared_again() {
        for prepare_again in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let store = SledStore::open(dir.path(), SledOptions::default()).unwrap();
            let users = fixtures::users();
            store.put_collection(None, &users).unwrap();
            let writes = vec![Write::Create {
                collection: Arc::new(users.clone()),
                record: fixtures::record(&users, &fixtures::id(1), &[]),
            }];
            let staged = Staged {
                prepared: prepare_all(&store.registry.read(), &writes).unwrap(),
                writes: Some(writes),
            };
            let mut indexed = users.clone();
            fixtures::set_indexes(&mut indexed, &["CREATE INDEX idx_name ON users (name)"]);
            store.put_collection(Some(&users), &indexed).unwrap();
            let registry = store.registry.read();
            let prepared = if prepare_again {
                staged.ready(&registry).unwrap()
            } else {
                staged.prepared
            };
            let current = Arc::ptr_eq(&prepared[0].0, &registry[&users.id]);
            assert_eq!(current, prepare_again);
            let results = store.carry(&mut store.commit_lock.lock(), vec![Ok(prepared)]);
            assert!(results[0].is_ok());
            drop(registry);
            assert_eq!(store.verify().is_ok(), prepare_again);
        }
    }
}
