//! The indexer: one thread that follows the store's change log into the collection
//! indexes, and builds indexes in the background when a collection's mapping changes.
//!
//! Invariants:
//! - Only durable changes are applied (sequence at most the durable signal, or what
//!   was already on disk at start), so an index never reflects a write a crash undid.
//! - Each commit records the last applied sequence in its payload; at start the
//!   indexer replays the change log from the lowest one, so a crash between the
//!   store's commit and the index's commit is caught up, never left stale.
//! - Applying a change loads the record's current state (delete, then add), so
//!   replaying a change twice is harmless.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use basalt_core::schema::{Catalog, Collection};
use basalt_core::service::Services;
use basalt_core::store::{Change, Seq};

use crate::engine::SearchEngine;
use crate::index::CollectionIndex;
use crate::mapping::Mapping;
use crate::SearchError;

/// Change-log entries read per step.
const BATCH: usize = 2048;
/// The longest the indexer sleeps when nothing happens.
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// An index with no changes of its own still records the log position once it trails
/// by this many entries, so a restart does not re-read a long log for it.
const IDLE_LAG: Seq = 10_000;
/// Under a steady stream of writes, the indexer gathers changes at least this long
/// between rounds, so each round reads and applies many changes rather than waking up
/// for every durable commit (a small part of the freshness budget).
const MIN_ROUND_GAP: Duration = Duration::from_millis(20);
/// How long a failed build waits before it is tried again.
const RETRY_BUILD: Duration = Duration::from_secs(30);

/// The running indexer; stops (committing what it applied) when stopped or dropped.
pub struct Indexer {
    /// The sequence up to which changes are applied (see [`Indexer::progress`]).
    progress: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Indexer {
    /// Opens the indexes of every collection with searchable fields, finds how far the
    /// change log reaches, and starts following it. Call before serving requests.
    pub fn start(
        engine: Arc<SearchEngine>,
        services: Arc<Services>,
    ) -> Result<Indexer, SearchError> {
        let state = State::open(engine, services)?;
        let progress = state.progress.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("basalt-indexer".into())
            .spawn(move || state.run(&flag))?;
        Ok(Indexer {
            progress,
            stop,
            thread: Some(thread),
        })
    }

    /// The sequence up to which durable changes have reached the indexes (searchable
    /// after the next commit, at most the commit interval later); the distance to the
    /// durable sequence is the search lag.
    pub fn progress(&self) -> Arc<AtomicU64> {
        self.progress.clone()
    }

    /// Commits what was applied and stops the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A background build of one collection's index.
struct Build {
    fingerprint: String,
    /// Where the build writes; never deleted as a retired index's directory.
    dir: std::path::PathBuf,
    cancel: Arc<AtomicBool>,
    /// Set when the build failed: not retried before then.
    retry_at: Option<Instant>,
}

type Built = (String, String, Result<CollectionIndex, SearchError>);

struct State {
    engine: Arc<SearchEngine>,
    services: Arc<Services>,
    /// Every change up to here has been applied to the live indexes.
    cursor: Seq,
    /// `cursor`, published for metrics.
    progress: Arc<AtomicU64>,
    /// Everything in the log up to here was on disk when the indexer started.
    recovered_end: Seq,
    dirty: HashSet<String>,
    last_commit: Instant,
    builds: HashMap<String, Build>,
    built_tx: Sender<Built>,
    built_rx: Receiver<Built>,
    /// The catalog the live indexes and builds were last checked against.
    seen: Option<Arc<Catalog>>,
    /// Replaced indexes, deleted once no search uses them any more.
    retired: Vec<Arc<CollectionIndex>>,
}

impl State {
    fn open(engine: Arc<SearchEngine>, services: Arc<Services>) -> Result<State, SearchError> {
        let catalog = services.catalog();
        for c in catalog.iter() {
            let Some(mapping) = Mapping::of(c) else {
                continue;
            };
            let dir = engine.dir_of(&c.id, &mapping);
            match CollectionIndex::open(&dir, &c.id, mapping, engine.options.writer_bytes) {
                Ok(Some(index)) => {
                    engine.install(Arc::new(index));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(collection = %c.name, error = %e,
                    "search index does not open; rebuilding it"),
            }
        }
        remove_unused_dirs(&engine);
        let from = engine.all().iter().map(|i| i.applied()).min();
        let recovered_end = log_end(&services, from.unwrap_or(0))?;
        let (built_tx, built_rx) = channel();
        Ok(State {
            cursor: from.unwrap_or(recovered_end),
            progress: Arc::new(AtomicU64::new(from.unwrap_or(recovered_end))),
            recovered_end,
            engine,
            services,
            dirty: HashSet::new(),
            last_commit: Instant::now(),
            builds: HashMap::new(),
            built_tx,
            built_rx,
            seen: None,
            retired: Vec::new(),
        })
    }

    fn run(mut self, stop: &AtomicBool) {
        let signal = self.services.durable_signal();
        let mut last_round = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let since = last_round.elapsed();
            if since < MIN_ROUND_GAP {
                std::thread::sleep(MIN_ROUND_GAP - since);
            }
            last_round = Instant::now();
            if self.cursor >= self.limit() {
                let wait = if self.dirty.is_empty() {
                    IDLE_WAIT
                } else {
                    self.engine
                        .options
                        .commit_interval
                        .saturating_sub(self.last_commit.elapsed())
                        .min(IDLE_WAIT)
                };
                signal.wait_past(self.cursor, wait);
            }
            self.sync_catalog();
            self.adopt_builds();
            if let Err(e) = self.apply_batch() {
                tracing::error!(error = %e, "search indexer failed to apply changes; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            if self.last_commit.elapsed() >= self.engine.options.commit_interval {
                self.commit();
            }
            self.delete_retired();
        }
        for build in self.builds.values() {
            build.cancel.store(true, Ordering::SeqCst);
        }
        self.commit();
    }

    /// The highest sequence known durable.
    fn limit(&self) -> Seq {
        self.services
            .durable_signal()
            .last()
            .max(self.recovered_end)
    }

    /// Applies the next durable changes to the live indexes.
    fn apply_batch(&mut self) -> Result<(), SearchError> {
        let limit = self.limit();
        if self.cursor >= limit {
            return Ok(());
        }
        if self.builds.is_empty() && self.engine.all().is_empty() {
            // Nothing is searchable: no need to read the log. A build started later
            // scans the store, which holds everything up to here.
            self.cursor = limit;
            self.progress.store(limit, Ordering::Relaxed);
            return Ok(());
        }
        let changes = self.services.store().changes_since(self.cursor, BATCH)?;
        let catalog = self.services.catalog();
        for change in changes {
            if change.seq > limit {
                break;
            }
            if let Some(index) = self.engine.get(&change.collection_id) {
                if change.seq > index.applied() {
                    apply(&self.services, &catalog, &index, &change)?;
                    self.dirty.insert(change.collection_id.clone());
                }
            }
            self.cursor = change.seq;
        }
        self.progress.store(self.cursor, Ordering::Relaxed);
        Ok(())
    }

    /// Commits every index with applied changes, and the position of idle ones that
    /// trail far behind.
    fn commit(&mut self) {
        for index in self.engine.all() {
            let dirty = self.dirty.contains(&index.collection_id);
            if !dirty && index.applied().saturating_add(IDLE_LAG) > self.cursor {
                continue;
            }
            match index.commit(self.cursor) {
                Ok(()) => {
                    self.dirty.remove(&index.collection_id);
                }
                Err(e) => tracing::error!(collection = %index.collection_id, error = %e,
                    "search index commit failed"),
            }
        }
        self.last_commit = Instant::now();
    }

    /// Starts builds for collections whose mapping changed, drops the indexes of
    /// collections that are gone or no longer searchable.
    fn sync_catalog(&mut self) {
        let catalog = self.services.catalog();
        let retry_due = self
            .builds
            .values()
            .any(|b| b.retry_at.is_some_and(|t| t <= Instant::now()));
        if !retry_due && self.seen.as_ref().is_some_and(|s| Arc::ptr_eq(s, &catalog)) {
            return;
        }
        self.seen = Some(catalog.clone());
        let mut wanted = HashSet::new();
        for c in catalog.iter() {
            let Some(mapping) = Mapping::of(c) else {
                continue;
            };
            wanted.insert(c.id.clone());
            let live = self.engine.get(&c.id);
            if live.is_some_and(|i| i.mapping.fingerprint == mapping.fingerprint) {
                self.cancel_build(&c.id);
                continue;
            }
            let pending = self.builds.get(&c.id).is_some_and(|b| {
                b.fingerprint == mapping.fingerprint
                    && b.retry_at.is_none_or(|t| t > Instant::now())
            });
            if pending {
                continue;
            }
            self.start_build(c.clone(), mapping);
        }
        for index in self.engine.all() {
            if !wanted.contains(&index.collection_id) {
                tracing::info!(collection = %index.collection_id, "dropping search index");
                if let Some(old) = self.engine.remove(&index.collection_id) {
                    self.dirty.remove(&old.collection_id);
                    self.retired.push(old);
                }
            }
        }
        let gone: Vec<_> = self
            .builds
            .keys()
            .filter(|id| !wanted.contains(*id))
            .cloned()
            .collect();
        for id in gone {
            self.cancel_build(&id);
        }
    }

    fn cancel_build(&mut self, collection_id: &str) {
        if let Some(build) = self.builds.remove(collection_id) {
            build.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// Builds `collection`'s index from a scan of the store on another thread; the
    /// scan sees every change up to the cursor, later ones are replayed on adoption.
    fn start_build(&mut self, collection: Arc<Collection>, mapping: Mapping) {
        self.cancel_build(&collection.id);
        let cancel = Arc::new(AtomicBool::new(false));
        self.builds.insert(
            collection.id.clone(),
            Build {
                fingerprint: mapping.fingerprint.clone(),
                dir: self.engine.dir_of(&collection.id, &mapping),
                cancel: cancel.clone(),
                retry_at: None,
            },
        );
        tracing::info!(collection = %collection.name, "building search index");
        let (engine, services, tx, seq) = (
            self.engine.clone(),
            self.services.clone(),
            self.built_tx.clone(),
            self.cursor,
        );
        let spawned = std::thread::Builder::new()
            .name("basalt-index-build".into())
            .spawn(move || {
                let fingerprint = mapping.fingerprint.clone();
                let result = build(&engine, &services, &collection, mapping, seq, &cancel);
                let _ = tx.send((collection.id.clone(), fingerprint, result));
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a search index build");
        }
    }

    /// Takes finished builds live, after replaying what changed since their scan.
    fn adopt_builds(&mut self) {
        while let Ok((collection_id, fingerprint, result)) = self.built_rx.try_recv() {
            let current = self
                .builds
                .get(&collection_id)
                .is_some_and(|b| b.fingerprint == fingerprint && b.retry_at.is_none());
            let index = match result {
                Ok(index) => Arc::new(index),
                Err(SearchError::Cancelled) => continue,
                Err(e) => {
                    tracing::error!(collection = %collection_id, error = %e,
                        "search index build failed");
                    if let Some(b) = self.builds.get_mut(&collection_id) {
                        b.retry_at = Some(Instant::now() + RETRY_BUILD);
                    }
                    continue;
                }
            };
            if !current {
                self.retired.push(index);
                continue;
            }
            if let Err(e) = self.catch_up(&index) {
                tracing::error!(collection = %collection_id, error = %e,
                    "search index catch-up failed");
                if let Some(b) = self.builds.get_mut(&collection_id) {
                    b.retry_at = Some(Instant::now() + RETRY_BUILD);
                }
                self.retired.push(index);
                continue;
            }
            self.builds.remove(&collection_id);
            tracing::info!(collection = %collection_id, docs = index.num_docs(),
                "search index ready");
            if let Some(old) = self.engine.install(index) {
                self.retired.push(old);
            }
            self.dirty.remove(&collection_id);
        }
    }

    /// Applies the changes of `index`'s collection between its build and the cursor.
    fn catch_up(&self, index: &CollectionIndex) -> Result<(), SearchError> {
        let catalog = self.services.catalog();
        let mut pos = index.applied();
        while pos < self.cursor {
            let changes = self.services.store().changes_since(pos, BATCH)?;
            if changes.is_empty() {
                break;
            }
            for change in changes {
                if change.seq > self.cursor {
                    break;
                }
                if change.collection_id == index.collection_id {
                    apply(&self.services, &catalog, index, &change)?;
                }
                pos = change.seq;
            }
        }
        index.commit(self.cursor)
    }

    fn delete_retired(&mut self) {
        let mut live: HashSet<_> = self.engine.all().iter().map(|i| i.dir.clone()).collect();
        live.extend(self.builds.values().map(|b| b.dir.clone()));
        self.retired.retain(|index| {
            if Arc::strong_count(index) > 1 {
                return true;
            }
            if !live.contains(&index.dir) {
                if let Err(e) = std::fs::remove_dir_all(&index.dir) {
                    tracing::warn!(dir = %index.dir.display(), error = %e,
                        "cannot delete an old search index");
                }
            }
            false
        });
    }
}

/// Brings `index` up to date with the record a change names.
fn apply(
    services: &Services,
    catalog: &Catalog,
    index: &CollectionIndex,
    change: &Change,
) -> Result<(), SearchError> {
    let Some(collection) = catalog.by_id(&change.collection_id) else {
        return Ok(());
    };
    match services.store().get(collection, &change.record_id)? {
        Some(record) => index.upsert(collection, &record),
        None => {
            index.delete(&change.record_id);
            Ok(())
        }
    }
}

/// Builds a fresh index of `collection` from the store, committed as reflecting the
/// change log up to `seq`. `progress` hears `(done, _)` every few thousand records.
pub(crate) fn build_with(
    engine: &SearchEngine,
    services: &Services,
    collection: &Collection,
    mapping: Mapping,
    seq: Seq,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(u64),
) -> Result<CollectionIndex, SearchError> {
    let dir = engine.dir_of(&collection.id, &mapping);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let index =
        CollectionIndex::create(&dir, &collection.id, mapping, engine.options.writer_bytes)?;
    let (mut done, mut reported) = (0u64, 0u64);
    let mut failure = None;
    services.store().scan(collection, &mut |record| {
        if cancel.load(Ordering::Relaxed) {
            failure = Some(SearchError::Cancelled);
            return false;
        }
        if let Err(e) = index.add(collection, &record) {
            failure = Some(e);
            return false;
        }
        done += 1;
        if done >= reported + 1000 {
            reported = done;
            progress(done);
        }
        true
    })?;
    if let Some(e) = failure {
        drop(index);
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    progress(done);
    index.commit(seq)?;
    Ok(index)
}

fn build(
    engine: &SearchEngine,
    services: &Services,
    collection: &Collection,
    mapping: Mapping,
    seq: Seq,
    cancel: &AtomicBool,
) -> Result<CollectionIndex, SearchError> {
    build_with(
        engine,
        services,
        collection,
        mapping,
        seq,
        cancel,
        &mut |_| {},
    )
}

/// The last sequence in the change log, reading on from `from`.
pub(crate) fn log_end(services: &Services, from: Seq) -> Result<Seq, SearchError> {
    let mut end = from;
    loop {
        let changes = services.store().changes_since(end, BATCH * 4)?;
        match changes.last() {
            Some(last) => end = last.seq,
            None => return Ok(end),
        }
    }
}

/// Deletes index directories no live index uses: old mappings, deleted collections,
/// builds a crash interrupted.
fn remove_unused_dirs(engine: &SearchEngine) {
    let live: HashSet<_> = engine.all().iter().map(|i| i.dir.clone()).collect();
    let Ok(collections) = std::fs::read_dir(engine.root()) else {
        return;
    };
    for entry in collections.flatten() {
        let path = entry.path();
        let Ok(generations) = std::fs::read_dir(&path) else {
            continue;
        };
        let mut kept = false;
        for generation in generations.flatten() {
            let dir = generation.path();
            if live.contains(&dir) {
                kept = true;
            } else if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot delete an old search index");
            }
        }
        if !kept {
            let _ = std::fs::remove_dir(&path);
        }
    }
}
