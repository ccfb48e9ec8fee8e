//! One collection's tantivy index: its directory, writer, reader and the change-log
//! position it reflects (kept in the tantivy commit payload).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::search::{SearchHit, SearchHits};
use basalt_core::store::Seq;
use basalt_core::Result;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::merge_policy::LogMergePolicy;
use tantivy::query::Query;
use tantivy::schema::Value as _;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::mapping::{Mapping, ANALYZER};
use crate::SearchError;

/// What every commit records: how far the change log is applied, for which mapping.
#[derive(Serialize, Deserialize)]
struct Payload {
    seq: Seq,
    mapping: String,
}

pub(crate) struct CollectionIndex {
    pub collection_id: String,
    pub mapping: Mapping,
    pub dir: PathBuf,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// The change-log position the last commit reflects.
    applied: AtomicU64,
}

impl CollectionIndex {
    /// Creates an empty index in `dir` (which must not hold one).
    pub fn create(
        dir: &Path,
        collection_id: &str,
        mapping: Mapping,
        writer_bytes: usize,
    ) -> Result<CollectionIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let index = Index::create_in_dir(dir, mapping.schema.clone())?;
        CollectionIndex::with_index(index, dir, collection_id, mapping, writer_bytes, 0)
    }

    /// Opens the index in `dir` if a commit there recorded this very mapping; `None`
    /// when there is none (never committed, or built for another mapping).
    pub fn open(
        dir: &Path,
        collection_id: &str,
        mapping: Mapping,
        writer_bytes: usize,
    ) -> Result<Option<CollectionIndex>, SearchError> {
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let index = Index::open(MmapDirectory::open(dir)?)?;
        let Some(payload) = index.load_metas()?.payload else {
            return Ok(None);
        };
        let Ok(payload) = serde_json::from_str::<Payload>(&payload) else {
            return Ok(None);
        };
        if payload.mapping != mapping.fingerprint {
            return Ok(None);
        }
        let idx = CollectionIndex::with_index(index, dir, collection_id, mapping, writer_bytes, 0)?;
        idx.applied.store(payload.seq, Ordering::SeqCst);
        Ok(Some(idx))
    }

    fn with_index(
        index: Index,
        dir: &Path,
        collection_id: &str,
        mapping: Mapping,
        writer_bytes: usize,
        applied: Seq,
    ) -> Result<CollectionIndex, SearchError> {
        index.tokenizers().register(ANALYZER, mapping.analyzer());
        let writer = index.writer_with_num_threads(1, writer_bytes)?;
        writer.set_merge_policy(Box::new(merge_policy()));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(CollectionIndex {
            collection_id: collection_id.to_owned(),
            mapping,
            dir: dir.to_owned(),
            reader,
            writer: Mutex::new(writer),
            applied: AtomicU64::new(applied),
        })
    }

    pub fn applied(&self) -> Seq {
        self.applied.load(Ordering::SeqCst)
    }

    /// Replaces whatever the index holds for `record`'s id by the record.
    pub fn upsert(&self, collection: &Collection, record: &Record) -> Result<(), SearchError> {
        let writer = self.writer.lock();
        writer.delete_term(Term::from_field_text(self.mapping.id, record.id()));
        writer.add_document(self.mapping.document(collection, record))?;
        Ok(())
    }

    /// Adds a record known not to be in the index yet (bulk builds).
    pub fn add(&self, collection: &Collection, record: &Record) -> Result<(), SearchError> {
        self.writer
            .lock()
            .add_document(self.mapping.document(collection, record))?;
        Ok(())
    }

    pub fn delete(&self, id: &str) {
        self.writer
            .lock()
            .delete_term(Term::from_field_text(self.mapping.id, id));
    }

    /// Makes everything added so far durable and searchable, recording `seq` as
    /// applied.
    pub fn commit(&self, seq: Seq) -> Result<(), SearchError> {
        let payload = serde_json::to_string(&Payload {
            seq,
            mapping: self.mapping.fingerprint.clone(),
        })?;
        {
            let mut writer = self.writer.lock();
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
        }
        self.applied.store(seq, Ordering::SeqCst);
        self.reader.reload()?;
        Ok(())
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Runs `query`, best first.
    pub fn search(
        &self,
        query: &dyn Query,
        offset: usize,
        limit: usize,
    ) -> Result<SearchHits, SearchError> {
        let searcher = self.searcher();
        if limit == 0 {
            let total = searcher.search(query, &Count)?;
            return Ok(SearchHits {
                hits: Vec::new(),
                total,
            });
        }
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let (top, total) = searcher.search(query, &(top, Count))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.mapping.id).and_then(|v| v.as_str()) {
                hits.push(SearchHit {
                    id: id.to_owned(),
                    score,
                });
            }
        }
        Ok(SearchHits { hits, total })
    }

    /// The number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.searcher().num_docs()
    }
}

/// Small frequent commits (one per commit interval under load) make many small
/// segments. Tantivy's default treats every segment under 10,000 documents as one
/// size class, so a growing segment is merged again with each new handful of small
/// ones, copying it over and over. Size classes that start small merge segments of
/// similar size only, so each document is copied a logarithmic number of times.
fn merge_policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_min_layer_size(MIN_LAYER_DOCS);
    policy
}

/// The smallest size class of the merge policy, in documents.
const MIN_LAYER_DOCS: u32 = 100;
