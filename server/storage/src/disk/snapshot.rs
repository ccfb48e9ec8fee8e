//! Consistent snapshots while writes go on, and building a store from one.
//!
//! An export pins a sequence number `S` under the commit lock (a moment: no tree is
//! walked while it is held) and from then on every commit saves, before it writes, the
//! stored bytes of each record it is about to change — once per record, the first
//! time. The walk then reads the live trees: a record nobody changed since `S` is read
//! as it is; a record in the saved set is skipped in the walk and written from its saved
//! bytes instead (or not at all if it did not exist at `S`). Deciding after reading
//! makes the race harmless: a record changed between the read and the check has its
//! saved bytes equal to what was read. Schema changes wait for the export (it holds the
//! registry shared); record writes do not.
//!
//! Only collections, records and settings are exported: indexes, reverse and
//! insertion-order trees are derived, and rebuilt on import; the change log restarts
//! empty after `S`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use ::sled::Batch;
use basalt_core::store::SnapshotInfo;

use super::{SledOptions, SledStore};
use crate::dump::{DumpReader, DumpWriter, Frame};
use crate::{keys, StorageError};

/// What a running export shares with commits.
#[derive(Default)]
pub(super) struct PreImages {
    /// Bytes at the export's seq of records changed since, by (collection id, record
    /// id); `None` for records that did not exist.
    saved: HashMap<(String, Vec<u8>), Option<Vec<u8>>>,
    /// Collections the walk has finished.
    done: std::collections::HashSet<String>,
    /// The walk's position: (collection id, insertion-order key) of the last record
    /// it took from the live tree. Records at or before it are written already, so
    /// their later changes need no saving (and must not be written twice).
    cursor: Option<(String, Vec<u8>)>,
}

impl PreImages {
    fn walked(&self, collection: &str, order_key: &[u8]) -> bool {
        self.done.contains(collection)
            || self
                .cursor
                .as_ref()
                .is_some_and(|(c, k)| c == collection && order_key <= k.as_slice())
    }
}

/// Clears the pre-image set when the export ends, however it ends.
struct Capture<'a>(&'a SledStore);

impl Drop for Capture<'_> {
    fn drop(&mut self) {
        *self.0.pre_images.lock() = None;
    }
}

/// Records written per batch on import.
const BATCH: usize = 1000;

impl SledStore {
    pub(super) fn export_inner(&self, out: &mut dyn Write) -> Result<SnapshotInfo, StorageError> {
        let registry = self.registry.read_recursive();
        let (seq, settings) = {
            let _serial = self.commit_lock.lock();
            let mut pre = self.pre_images.lock();
            if pre.is_some() {
                return Err(StorageError::Dump("another export is running".into()));
            }
            *pre = Some(PreImages::default());
            let seq = self
                .meta
                .get(keys::SEQ_KEY)?
                .and_then(|v| keys::read_seq(&v))
                .unwrap_or(0);
            (seq, self.meta.get(keys::SETTINGS_KEY)?)
        };
        let capture = Capture(self);
        let mut dump = DumpWriter::start(out, keys::FORMAT_VERSION, seq)?;
        if let Some(s) = settings {
            dump.settings(&s)?;
        }
        let mut ids: Vec<&String> = registry.keys().collect();
        ids.sort();
        for id in &ids {
            let json = self.collections.get(id.as_bytes())?.ok_or_else(|| {
                StorageError::Corrupt(format!("collection {id} has no definition"))
            })?;
            dump.collection(id, &json)?;
        }
        for id in &ids {
            let handles = &registry[*id];
            for entry in handles.order.iter() {
                let (key, _) = entry?;
                let Some(rid) = key.get(8..) else {
                    return Err(StorageError::Corrupt("insertion-order key".into()));
                };
                let value = handles.records.get(rid)?;
                let take = {
                    let mut guard = self.pre_images.lock();
                    let Some(pre) = guard.as_mut() else {
                        return Err(StorageError::Corrupt("export state lost".into()));
                    };
                    let changed = pre.saved.contains_key(&((*id).clone(), rid.to_vec()));
                    if !changed {
                        pre.cursor = Some(((*id).clone(), key.to_vec()));
                    }
                    !changed
                };
                if let (Some(value), true) = (value, take) {
                    dump.record(id, rid, &value)?;
                }
            }
            if let Some(pre) = self.pre_images.lock().as_mut() {
                pre.done.insert((*id).clone());
            }
        }
        let saved = self
            .pre_images
            .lock()
            .take()
            .map(|p| p.saved)
            .unwrap_or_default();
        drop(capture);
        let mut saved: Vec<_> = saved.into_iter().collect();
        saved.sort();
        for ((collection, rid), value) in saved {
            if let (Some(value), true) = (value, registry.contains_key(&collection)) {
                dump.record(&collection, &rid, &value)?;
            }
        }
        let (_, records) = dump.finish()?;
        Ok(SnapshotInfo {
            seq,
            collections: ids.len(),
            records,
        })
    }

    /// Saves, for a running export, the stored bytes of records a commit is about to
    /// change. Called with the commit lock held.
    pub(super) fn save_pre_images<'a>(
        &self,
        writes: impl Iterator<Item = (&'a super::Handles, &'a str)>,
    ) -> Result<(), StorageError> {
        let mut guard = self.pre_images.lock();
        let Some(pre) = guard.as_mut() else {
            return Ok(());
        };
        for (handles, rid) in writes {
            let collection = &handles.layout.def.id;
            let key = (collection.clone(), rid.as_bytes().to_vec());
            if pre.saved.contains_key(&key) {
                continue;
            }
            let stored = handles.records.get(rid.as_bytes())?;
            if let Some(created) = stored.as_deref().and_then(keys::read_seq) {
                if pre.walked(collection, &keys::order_key(created, rid)) {
                    continue;
                }
            }
            pre.saved.insert(key, stored.map(|v| v.to_vec()));
        }
        Ok(())
    }

    /// Builds a new store in `dir` (which must be absent or empty) from a dump, then
    /// opens it — which rebuilds every index — and checks it with
    /// [`SledStore::verify`]. Any problem is an error and the directory is left for
    /// the caller to delete.
    pub fn import(
        dir: &Path,
        input: &mut dyn Read,
        options: SledOptions,
    ) -> Result<(SledStore, SnapshotInfo), StorageError> {
        if dir.exists()
            && dir
                .read_dir()
                .map_err(|e| StorageError::Dump(e.to_string()))?
                .next()
                .is_some()
        {
            return Err(StorageError::Dump(format!(
                "{} is not empty",
                dir.display()
            )));
        }
        let mut reader = DumpReader::open(input)?;
        if reader.format > keys::FORMAT_VERSION {
            return Err(StorageError::NewerFormat {
                found: reader.format,
                supported: keys::FORMAT_VERSION,
            });
        }
        let info = {
            let db = ::sled::Config::new().path(dir).open()?;
            let meta = db.open_tree(keys::META)?;
            let collections = db.open_tree(keys::COLLECTIONS)?;
            meta.insert(keys::FORMAT_KEY, &reader.format.to_be_bytes())?;
            meta.insert(keys::SEQ_KEY, &keys::seq_bytes(reader.seq))?;
            let mut known = std::collections::HashSet::new();
            let mut batches: HashMap<String, (Batch, Batch, usize)> = HashMap::new();
            let mut records = 0u64;
            let flush = |db: &::sled::Db,
                         id: &str,
                         b: &mut (Batch, Batch, usize)|
             -> Result<(), StorageError> {
                db.open_tree(keys::records_tree(id))?
                    .apply_batch(std::mem::take(&mut b.0))?;
                db.open_tree(keys::order_tree(id))?
                    .apply_batch(std::mem::take(&mut b.1))?;
                b.2 = 0;
                Ok(())
            };
            loop {
                match reader.next_frame()? {
                    None => return Err(StorageError::Dump("the dump has no trailer".into())),
                    Some(Frame::Settings(json)) => {
                        meta.insert(keys::SETTINGS_KEY, json)?;
                    }
                    Some(Frame::Collection { id, json }) => {
                        collections.insert(id.as_bytes(), json)?;
                        known.insert(id);
                    }
                    Some(Frame::Record {
                        collection,
                        id,
                        value,
                    }) => {
                        if !known.contains(&collection) {
                            return Err(StorageError::Dump(format!(
                                "record {id} of unknown collection {collection}"
                            )));
                        }
                        let Some(created) = keys::read_seq(&value) else {
                            return Err(StorageError::Dump(format!(
                                "record {id} has no creation seq"
                            )));
                        };
                        let b = batches.entry(collection.clone()).or_default();
                        b.0.insert(id.as_bytes(), value);
                        b.1.insert(keys::order_key(created, &id), &[][..]);
                        b.2 += 1;
                        records += 1;
                        if b.2 >= BATCH {
                            flush(&db, &collection, b)?;
                        }
                    }
                    Some(Frame::End {
                        records: expected, ..
                    }) => {
                        if expected != records {
                            return Err(StorageError::Dump(format!(
                                "the trailer counts {expected} records, the dump has {records}"
                            )));
                        }
                        break;
                    }
                }
            }
            for (id, b) in &mut batches {
                flush(&db, id, b)?;
            }
            db.flush()?;
            SnapshotInfo {
                seq: reader.seq,
                collections: known.len(),
                records,
            }
        };
        // sled releases the directory lock of the import's handle through deferred
        // cleanup: the reopen may have to wait a moment for it.
        let started = std::time::Instant::now();
        let store = loop {
            match SledStore::open(dir, options.clone()) {
                Err(e)
                    if e.to_string().contains("could not acquire lock")
                        && started.elapsed() < std::time::Duration::from_secs(10) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        store.verify()?;
        Ok((store, info))
    }
}
