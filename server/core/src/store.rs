//! The port the record store implements. sled is the embedded default; the trait is
//! shaped so a SQL or distributed key-value engine can implement it too: atomic
//! multi-record writes with unique checks, a change feed, and query execution that is
//! handed the whole compiled query.

use std::sync::Arc;

use crate::filter::{Filter, Lookup, RequestInfo, SortKey};
use crate::record::Record;
use crate::schema::Collection;
use crate::Result;

/// A position in the change log. Strictly increasing in commit order.
pub type Seq = u64;

/// One mutation inside an atomic [`RecordStore::commit`].
#[derive(Clone, Debug)]
pub enum Write {
    /// Insert a new record; fails with `validation_not_unique` on `id` if it exists.
    Create {
        collection: Arc<Collection>,
        record: Record,
    },
    /// Replace `old` by `new`; fails with [`crate::Code::Conflict`] if the stored record
    /// is no longer `old` (a concurrent writer won), so callers re-read and retry.
    Update {
        collection: Arc<Collection>,
        old: Record,
        new: Record,
    },
    /// Remove the record; fails with `Conflict` if it is no longer `old`.
    Delete {
        collection: Arc<Collection>,
        old: Record,
    },
}

impl Write {
    /// The collection the write goes to.
    pub fn collection(&self) -> &Arc<Collection> {
        match self {
            Write::Create { collection, .. }
            | Write::Update { collection, .. }
            | Write::Delete { collection, .. } => collection,
        }
    }
}

/// What the change log remembers of a write.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub seq: Seq,
    pub collection_id: String,
    pub record_id: String,
    pub action: Action,
    /// A delete's record as it was last stored (its collection's current definition
    /// reads it), so followers such as realtime can tell what was deleted. `None` for
    /// creates and updates (followers read the current state), and for a delete whose
    /// collection no longer exists.
    pub deleted: Option<Record>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// A compiled list query over one collection.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub filter: Option<Filter>,
    /// Empty = insertion order (like PocketBase's rowid). A [`SortKey::Random`] shuffles.
    pub sort: Vec<SortKey>,
    pub offset: usize,
    pub limit: usize,
    /// Whether the total number of matches is wanted (`skipTotal` off).
    pub count_total: bool,
    /// What `@request.*` in the filter resolves to.
    pub request: Arc<RequestInfo>,
    /// How many stored records the query may read: one that needs more stops at the
    /// first record past it and returns a page marked [`Page::over_budget`] instead.
    /// `None`: no limit.
    pub budget: Option<usize>,
}

/// One page of results.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub records: Vec<Record>,
    /// `Some` when [`Query::count_total`] was set.
    pub total: Option<usize>,
    /// The query needed more reads than [`Query::budget`] allows: `records` and
    /// `total` are incomplete and must not be used.
    pub over_budget: bool,
}

/// What a consistent export of the store ([`RecordStore::export`]) holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Every write up to this sequence number is in it, none after.
    pub seq: Seq,
    pub collections: usize,
    pub records: u64,
}

/// What [`RecordStore::commit_then`] calls with the commit's result.
pub type Committed = Box<dyn FnOnce(Result<Seq>) + Send>;

/// The record store. Methods block; async callers use `spawn_blocking`.
pub trait RecordStore: Lookup + Send + Sync + 'static {
    /// Every stored collection, with storage slots and parsed indexes.
    fn load_collections(&self) -> Result<Vec<Collection>>;

    /// Creates or replaces a collection definition. When `old` is given, indexes that
    /// changed are rebuilt from the records (failing with `validation_not_unique` on
    /// `indexes` if existing data breaks a new unique index, leaving everything as it was).
    fn put_collection(&self, old: Option<&Collection>, new: &Collection) -> Result<Seq>;

    /// Removes a collection with all its records and indexes.
    fn delete_collection(&self, collection: &Collection) -> Result<Seq>;

    /// Applies all writes atomically together with their index and change-log entries.
    /// Unique-index violations fail the whole commit with a validation error naming the
    /// fields. A store may return before the write is durable: see [`Self::sync`].
    fn commit(&self, writes: Vec<Write>) -> Result<Seq>;

    /// Like [`Self::commit`], but calls `done` with the result instead of blocking, so
    /// async callers need not park a thread. `done` may run on another thread, or on
    /// this one before the call returns.
    fn commit_then(self: Arc<Self>, writes: Vec<Write>, done: Committed) {
        done(self.commit(writes));
    }

    /// Blocks until everything up to `seq` is on disk (a no-op for a store whose
    /// writes are durable when they return).
    fn sync(&self, seq: Seq) -> Result<()>;

    /// Like [`Self::sync`], but calls `done` when `seq` is durable instead of blocking,
    /// so async callers need not park a thread. `done` may run on another thread.
    fn sync_then(&self, seq: Seq, done: Box<dyn FnOnce(Result<()>) + Send>) {
        done(self.sync(seq));
    }

    /// Runs a list query: filter, sort, page, and optionally count.
    fn query(&self, collection: &Arc<Collection>, query: &Query) -> Result<Page>;

    /// The app settings document (JSON), if it was ever saved.
    fn load_settings(&self) -> Result<Option<Vec<u8>>>;

    /// Replaces the app settings document. Durable once [`Self::sync`] of the returned
    /// sequence returns.
    fn save_settings(&self, json: &[u8]) -> Result<Seq>;

    /// Change-log entries after `after`, oldest first, at most `limit`.
    fn changes_since(&self, after: Seq, limit: usize) -> Result<Vec<Change>>;

    /// Durability work so far: `(flushes, total time in them)`, when the store flushes.
    fn flush_stats(&self) -> Option<(u64, std::time::Duration)> {
        None
    }

    /// Flushes everything committed to disk before the process exits (graceful
    /// shutdown). The store stays usable.
    fn close(&self) -> Result<()> {
        Ok(())
    }

    /// Writes a consistent snapshot (collections, records, settings as of one
    /// sequence number) to `out` while writes go on; the store's own dump format.
    fn export(&self, _out: &mut dyn std::io::Write) -> Result<SnapshotInfo> {
        Err(crate::Error::internal("this store cannot export snapshots"))
    }
}
