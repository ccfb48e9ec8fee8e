//! [`SledStore`]: the record store on sled (key layout in the crate docs).

mod commit;
mod flusher;
mod read;
mod schema;
mod snapshot;
mod verify;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use ::sled::{Db, Tree};
use basalt_core::filter::Lookup;
use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::store::{Change, Page, Query, RecordStore, Seq, SnapshotInfo, Write};
use parking_lot::RwLock;

use self::flusher::GroupCommit;
use crate::keys;
use crate::layout::Layout;
use crate::StorageError;

/// How to open a [`SledStore`].
#[derive(Clone, Debug)]
pub struct SledOptions {
    /// The page cache, in bytes: the main knob of the store's memory use.
    pub cache_capacity_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> SledOptions {
        SledOptions {
            cache_capacity_bytes: 64 << 20,
        }
    }
}

/// The file sled keeps its log (and so every tree) in, inside the store's directory.
const SLED_LOG_FILE: &str = "db";

/// sled's own background flush, on top of the flushes acknowledged writes wait for.
const BACKGROUND_FLUSH_MS: u64 = 500;

/// The open trees of one stored collection.
#[derive(Debug)]
pub(crate) struct Handles {
    pub layout: Layout,
    pub records: Tree,
    pub order: Tree,
    /// Parallel to `layout.indexes`.
    pub indexes: Vec<Tree>,
    /// Parallel to `layout.relations`.
    pub reverse: Vec<Tree>,
}

impl Handles {
    fn open(db: &Db, layout: Layout) -> Result<Handles, StorageError> {
        Ok(Handles {
            records: db.open_tree(keys::records_tree(&layout.def.id))?,
            order: db.open_tree(keys::order_tree(&layout.def.id))?,
            indexes: layout
                .indexes
                .iter()
                .map(|i| db.open_tree(&i.tree))
                .collect::<Result<_, _>>()?,
            reverse: layout
                .relations
                .iter()
                .map(|r| db.open_tree(&r.tree))
                .collect::<Result<_, _>>()?,
            layout,
        })
    }
}

/// Stored collections by id, with their open trees. Commits and reads hold it shared
/// (recursively: filters read through [`Lookup`] while a query runs); schema changes
/// hold it exclusively, so no write races an index build.
type Registry = HashMap<String, Arc<Handles>>;

/// The sled record store. See the crate docs for the key layout.
pub struct SledStore {
    db: Db,
    meta: Tree,
    collections: Tree,
    changes: Tree,
    registry: RwLock<Registry>,
    group: GroupCommit,
    /// Serializes record transactions: they all write the seq counter, so running them
    /// concurrently only makes sled retry the losers.
    commit_lock: parking_lot::Mutex<()>,
    /// Commits waiting for the commit lock: its next holder carries them all.
    queue: parking_lot::Mutex<Vec<commit::Queued>>,
    /// Set while an export runs: see `snapshot`.
    pre_images: parking_lot::Mutex<Option<snapshot::PreImages>>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. Refuses a store written in a newer format,
    /// and drops trees that a crash in the middle of a schema change left behind.
    pub fn open(dir: &Path, options: SledOptions) -> Result<SledStore, StorageError> {
        SledStore::open_config(dir, &options, false)
    }

    /// Like [`SledStore::open`], but `dir` is deleted when the store is dropped: for
    /// tests.
    pub fn open_temporary(dir: &Path, options: SledOptions) -> Result<SledStore, StorageError> {
        SledStore::open_config(dir, &options, true)
    }

    fn open_config(
        dir: &Path,
        options: &SledOptions,
        temporary: bool,
    ) -> Result<SledStore, StorageError> {
        let db = ::sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity_bytes)
            .flush_every_ms(Some(BACKGROUND_FLUSH_MS))
            .temporary(temporary)
            .open()?;
        let meta = db.open_tree(keys::META)?;
        crate::migrate::open_format(&db, &meta, keys::FORMAT_VERSION, crate::migrate::STEPS)?;
        let collections = db.open_tree(keys::COLLECTIONS)?;
        let changes = db.open_tree(keys::CHANGES)?;
        let seq = match meta.get(keys::SEQ_KEY)? {
            Some(v) => {
                keys::read_seq(&v).ok_or_else(|| StorageError::Corrupt("meta seq".into()))?
            }
            None => 0,
        };
        let registry = schema::load(&db, &collections)?;
        let flush_db = db.clone();
        // sled makes its log durable with sync_file_range, which writes the data but
        // not the file's metadata (its size, newly allocated blocks): without an
        // fdatasync, a write acknowledged into a freshly grown part of the log would
        // survive a crash of the process but not a power loss.
        let log = std::fs::File::open(dir.join(SLED_LOG_FILE)).map_err(StorageError::LogFile)?;
        let group = GroupCommit::start(
            seq,
            Box::new(move || {
                flush_db.flush().map_err(|e| e.to_string())?;
                log.sync_data().map_err(|e| e.to_string())
            }),
        )?;
        Ok(SledStore {
            db,
            meta,
            collections,
            changes,
            registry: RwLock::new(registry),
            group,
            commit_lock: parking_lot::Mutex::new(()),
            queue: parking_lot::Mutex::new(Vec::new()),
            pre_images: parking_lot::Mutex::new(None),
        })
    }

    /// How many group-commit flushes have run since the store was opened.
    pub fn flush_count(&self) -> u64 {
        self.group.flushes()
    }

    /// Checks that every index, reverse and insertion-order entry agrees with the
    /// records, and that every record decodes: a consistency check for tests and
    /// operators. Reports the first problem as [`StorageError::Corrupt`].
    pub fn verify(&self) -> Result<(), StorageError> {
        let registry = self.registry.read_recursive();
        for handles in registry.values() {
            verify::collection(handles)?;
        }
        Ok(())
    }
}

impl RecordStore for SledStore {
    fn load_collections(&self) -> basalt_core::Result<Vec<Collection>> {
        let registry = self.registry.read_recursive();
        let mut all: Vec<Collection> = registry.values().map(|h| (*h.layout.def).clone()).collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }

    fn put_collection(
        &self,
        _old: Option<&Collection>,
        new: &Collection,
    ) -> basalt_core::Result<Seq> {
        Ok(self.put_collection_inner(new)?)
    }

    fn delete_collection(&self, collection: &Collection) -> basalt_core::Result<Seq> {
        Ok(self.delete_collection_inner(collection)?)
    }

    fn commit(&self, writes: Vec<Write>) -> basalt_core::Result<Seq> {
        Ok(self.commit_inner(&writes)?)
    }

    fn sync(&self, seq: Seq) -> basalt_core::Result<()> {
        Ok(self.group.wait(seq)?)
    }

    fn sync_then(&self, seq: Seq, done: Box<dyn FnOnce(basalt_core::Result<()>) + Send>) {
        self.group
            .wait_then(seq, Box::new(move |r| done(r.map_err(Into::into))));
    }

    fn query(&self, collection: &Arc<Collection>, query: &Query) -> basalt_core::Result<Page> {
        Ok(self.query_inner(collection, query)?)
    }

    fn load_settings(&self) -> basalt_core::Result<Option<Vec<u8>>> {
        let value = self
            .meta
            .get(keys::SETTINGS_KEY)
            .map_err(StorageError::from)?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn save_settings(&self, json: &[u8]) -> basalt_core::Result<Seq> {
        Ok(self.save_settings_inner(json)?)
    }

    fn changes_since(&self, after: Seq, limit: usize) -> basalt_core::Result<Vec<Change>> {
        Ok(self.changes_since_inner(after, limit)?)
    }

    fn export(&self, out: &mut dyn std::io::Write) -> basalt_core::Result<SnapshotInfo> {
        Ok(self.export_inner(out)?)
    }

    fn flush_stats(&self) -> Option<(u64, std::time::Duration)> {
        Some((self.group.flushes(), self.group.flush_time()))
    }

    fn close(&self) -> basalt_core::Result<()> {
        self.db.flush().map_err(StorageError::from)?;
        Ok(())
    }
}

impl Lookup for SledStore {
    fn get(&self, collection: &Collection, id: &str) -> basalt_core::Result<Option<Record>> {
        Ok(self.get_inner(collection, id)?)
    }

    fn referencing(
        &self,
        collection: &Collection,
        field_pos: usize,
        id: &str,
    ) -> basalt_core::Result<Vec<Record>> {
        Ok(self.referencing_inner(collection, field_pos, id)?)
    }

    fn scan(
        &self,
        collection: &Collection,
        visit: &mut dyn FnMut(Record) -> bool,
    ) -> basalt_core::Result<()> {
        Ok(self.scan_inner(collection, visit)?)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
