//! [`SledStore`]: the record store on sled (key layout in the crate docs).

mod cache;
mod commit;
mod read;
mod schema;
mod snapshot;
mod verify;
mod wal;

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ::sled::{Db, Tree};
use basalt_core::filter::Lookup;
use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::store::{Change, Committed, Page, Query, RecordStore, Seq, SnapshotInfo, Write};
use parking_lot::RwLock;

use self::wal::{SyncStats, Wal};
use crate::keys;
use crate::layout::Layout;
use crate::StorageError;

/// How to open a [`SledStore`].
#[derive(Clone, Debug)]
pub struct SledOptions {
    /// The page cache, in bytes: the main knob of the store's memory use.
    pub cache_capacity_bytes: u64,
    /// Records kept by id in front of the page cache, in bytes (all collections).
    pub record_cache_bytes: usize,
}

impl Default for SledOptions {
    fn default() -> SledOptions {
        SledOptions {
            cache_capacity_bytes: 64 << 20,
            record_cache_bytes: 32 << 20,
        }
    }
}

/// The file sled keeps its log (and so every tree) in, inside the store's directory.
const SLED_LOG_FILE: &str = "db";

/// sled's own background flush: it keeps what a checkpoint has to write small.
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
    /// Records by id, in front of `records`.
    pub cache: cache::RecordCache,
}

impl Handles {
    fn open(db: &Db, layout: Layout, budget: &Arc<cache::Budget>) -> Result<Handles, StorageError> {
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
            cache: cache::RecordCache::new(budget.clone()),
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
    /// sled's log file, to fdatasync after a flush (see [`SledStore::flush_durably`]).
    log: File,
    /// The highest seq on disk: every write is durable when its call returns.
    durable: AtomicU64,
    /// The commit lock, holding the write-ahead log. Batches of commits and writes
    /// outside them (schema, settings, checkpoints) all hold it: they read and write
    /// the seq counter, and sled only ever sees them one at a time.
    commit_lock: parking_lot::Mutex<Wal>,
    /// Commits waiting for a batch to carry them.
    queue: commit::Queue,
    /// Leads batches that no blocked caller leads (see `commit_then`).
    committer: commit::Committer,
    /// Syncs of the write-ahead log, and durable flushes of sled.
    wal_stats: SyncStats,
    flush_stats: SyncStats,
    /// What the collections' record caches may hold together.
    cache_budget: Arc<cache::Budget>,
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
        if let Some(found) = crate::migrate::stored_format(&meta)? {
            if found > keys::FORMAT_VERSION {
                return Err(StorageError::NewerFormat {
                    found,
                    supported: keys::FORMAT_VERSION,
                });
            }
        }
        let epoch = match meta.get(wal::EPOCH_KEY)? {
            Some(v) => {
                keys::read_seq(&v).ok_or_else(|| StorageError::Corrupt("meta wal epoch".into()))?
            }
            None => 0,
        };
        let wal = Wal::open(dir, epoch)?;
        let replayed =
            wal.replay(|tree, writes| commit::apply_writes(&db.open_tree(tree)?, &writes))?;
        if replayed > 0 {
            tracing::info!(records = replayed, "replayed the write-ahead log");
        }
        // sled makes its log durable with sync_file_range, which writes the data but
        // not the file's metadata (its size, newly allocated blocks): a flush is only
        // durable against a power loss with an fdatasync of the file after it.
        let log = File::open(dir.join(SLED_LOG_FILE)).map_err(StorageError::LogFile)?;
        let store = SledStore {
            meta: meta.clone(),
            collections: db.open_tree(keys::COLLECTIONS)?,
            changes: db.open_tree(keys::CHANGES)?,
            registry: RwLock::new(Registry::new()),
            log,
            durable: AtomicU64::new(0),
            commit_lock: parking_lot::Mutex::new(wal),
            queue: commit::Queue::default(),
            committer: commit::Committer::default(),
            wal_stats: SyncStats::default(),
            flush_stats: SyncStats::default(),
            pre_images: parking_lot::Mutex::new(None),
            cache_budget: cache::Budget::new(options.record_cache_bytes),
            db,
        };
        store.checkpoint(&mut store.commit_lock.lock())?;
        crate::migrate::open_format(
            &store.db,
            &meta,
            keys::FORMAT_VERSION,
            crate::migrate::STEPS,
        )?;
        let seq = match meta.get(keys::SEQ_KEY)? {
            Some(v) => {
                keys::read_seq(&v).ok_or_else(|| StorageError::Corrupt("meta seq".into()))?
            }
            None => 0,
        };
        store.durable.store(seq, Ordering::Release);
        *store.registry.write() = schema::load(&store.db, &store.collections, &store.cache_budget)?;
        Ok(store)
    }

    /// The seq of the last write.
    fn last_seq(&self) -> Seq {
        self.durable.load(Ordering::Acquire)
    }

    /// Notes that every write up to `seq` is on disk.
    fn durable_to(&self, seq: Seq) {
        self.durable.fetch_max(seq, Ordering::AcqRel);
    }

    /// Flushes sled and syncs its log file: everything applied to sled is on disk.
    fn flush_durably(&self) -> Result<(), StorageError> {
        let started = Instant::now();
        self.db.flush()?;
        self.log.sync_data().map_err(StorageError::LogFile)?;
        self.flush_stats.add(started);
        Ok(())
    }

    /// Makes everything in the write-ahead log durable in sled and starts the log
    /// over under a new epoch (called with the commit lock held, `wal` being its
    /// content). Writes outside the log (schema, settings, migrations) come after a
    /// checkpoint, so that no replay ever applies a record over them.
    fn checkpoint(&self, wal: &mut Wal) -> Result<(), StorageError> {
        self.flush_durably()?;
        let next = wal.epoch() + 1;
        self.meta.insert(wal::EPOCH_KEY, &keys::seq_bytes(next))?;
        self.flush_durably()?;
        wal.restart(next);
        Ok(())
    }

    /// How many times the store synced a write to disk since it was opened (log
    /// records and sled flushes): concurrent commits share them.
    pub fn flush_count(&self) -> u64 {
        self.wal_stats.get().0 + self.flush_stats.get().0
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

    fn commit_then(self: Arc<Self>, writes: Vec<Write>, done: Committed) {
        SledStore::commit_then(&self, writes, Box::new(|r| done(r.map_err(Into::into))));
    }

    /// Every write is durable when its call returns: nothing is left to wait for.
    fn sync(&self, _seq: Seq) -> basalt_core::Result<()> {
        Ok(())
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
        let (syncs, synced) = self.wal_stats.get();
        let (flushes, flushed) = self.flush_stats.get();
        Some((syncs + flushes, synced + flushed))
    }

    fn close(&self) -> basalt_core::Result<()> {
        self.checkpoint(&mut self.commit_lock.lock())?;
        Ok(())
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.committer.stop();
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
