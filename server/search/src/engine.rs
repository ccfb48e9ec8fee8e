//! [`SearchEngine`]: every collection index under one root directory, serving the
//! core's `SearchIndex` port.
//!
//! Layout: `<root>/<collection id>/<mapping hash>/` holds one tantivy index. A schema
//! change that alters the mapping builds a new directory next to the old one, which
//! keeps serving until the new one is ready.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::search::{Highlighter, SearchHits, SearchIndex, SearchQuery};
use basalt_core::Result;
use parking_lot::RwLock;
use serde_json::{Map, Value as Json};
use tantivy::query::Query;
use tantivy::snippet::SnippetGenerator;

use crate::index::CollectionIndex;
use crate::mapping::{MappedField, Mapping};
use crate::query;

/// The smallest writer memory tantivy accepts, in bytes.
pub const MIN_WRITER_BYTES: usize = 15 << 20;

/// The longest highlighted fragment, in characters.
pub const MAX_HIGHLIGHT_CHARS: usize = 200;

/// Process configuration of the search engine.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// Indexing memory of each collection's index writer, in bytes (at least
    /// [`MIN_WRITER_BYTES`]); past it, the writer flushes a segment.
    pub writer_bytes: usize,
    /// How long the indexer gathers changes before committing them (the main term of
    /// search freshness).
    pub commit_interval: std::time::Duration,
}

/// The default commit interval, in milliseconds. Each commit makes a segment (later
/// merged) and syncs files, so under sustained inserts fewer commits leave more of
/// the machine to the writes; 500 ms keeps a new record searchable well within a
/// second of its acknowledgement.
pub const DEFAULT_COMMIT_MS: u64 = 500;

impl Default for SearchOptions {
    fn default() -> SearchOptions {
        SearchOptions {
            writer_bytes: 50 << 20,
            commit_interval: std::time::Duration::from_millis(DEFAULT_COMMIT_MS),
        }
    }
}

/// A live index and a query parsed for it.
type Prepared = (Arc<CollectionIndex>, Box<dyn Query>);

pub struct SearchEngine {
    root: PathBuf,
    pub(crate) options: SearchOptions,
    /// The index serving each collection (by collection id).
    live: RwLock<HashMap<String, Arc<CollectionIndex>>>,
}

impl SearchEngine {
    /// The engine over `root` (created if missing). Indexes are opened by the indexer.
    pub fn open(root: &Path, mut options: SearchOptions) -> std::io::Result<SearchEngine> {
        std::fs::create_dir_all(root)?;
        options.writer_bytes = options.writer_bytes.max(MIN_WRITER_BYTES);
        Ok(SearchEngine {
            root: root.to_owned(),
            options,
            live: RwLock::default(),
        })
    }

    pub(crate) fn dir_of(&self, collection_id: &str, mapping: &Mapping) -> PathBuf {
        self.root.join(collection_id).join(mapping.dir_name())
    }

    pub(crate) fn collection_dir(&self, collection_id: &str) -> PathBuf {
        self.root.join(collection_id)
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn get(&self, collection_id: &str) -> Option<Arc<CollectionIndex>> {
        self.live.read().get(collection_id).cloned()
    }

    pub(crate) fn all(&self) -> Vec<Arc<CollectionIndex>> {
        self.live.read().values().cloned().collect()
    }

    /// Serves `index` for its collection from now on; returns the one it replaces.
    pub(crate) fn install(&self, index: Arc<CollectionIndex>) -> Option<Arc<CollectionIndex>> {
        self.live.write().insert(index.collection_id.clone(), index)
    }

    pub(crate) fn remove(&self, collection_id: &str) -> Option<Arc<CollectionIndex>> {
        self.live.write().remove(collection_id)
    }

    /// The index of `collection` and the parsed query, or `None` when nothing can
    /// match (no index yet, or no word in the query).
    fn prepare(
        &self,
        collection: &Collection,
        search: &SearchQuery<'_>,
    ) -> Result<Option<Prepared>> {
        let Some(index) = self.get(&collection.id) else {
            // Not built yet: still check the syntax against the collection.
            if let Some(mapping) = Mapping::of(collection) {
                query::parse(&mapping, collection, search)?;
            }
            return Ok(None);
        };
        Ok(query::parse(&index.mapping, collection, search)?.map(|q| (index, q)))
    }
}

impl SearchIndex for SearchEngine {
    fn search(
        &self,
        collection: &Collection,
        query: &SearchQuery<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<SearchHits> {
        let Some((index, query)) = self.prepare(collection, query)? else {
            return Ok(SearchHits::default());
        };
        Ok(index.search(&*query, offset, limit)?)
    }

    fn highlighter(
        &self,
        collection: &Collection,
        search: &SearchQuery<'_>,
    ) -> Result<Box<dyn Highlighter>> {
        let Some((index, query)) = self.prepare(collection, search)? else {
            return Ok(Box::new(Marks {
                collection: collection.clone(),
                mapping: None,
                generators: Vec::new(),
            }));
        };
        let searcher = index.searcher();
        let mut generators = Vec::new();
        for f in query::searchable(&index.mapping, collection, search) {
            let mut g = SnippetGenerator::create(&searcher, &*query, f.field)
                .map_err(crate::SearchError::from)?;
            g.set_max_num_chars(MAX_HIGHLIGHT_CHARS);
            generators.push((f.clone(), g));
        }
        Ok(Box::new(Marks {
            collection: collection.clone(),
            mapping: Some(index.mapping.clone()),
            generators,
        }))
    }
}

/// Highlights from tantivy's snippet generator, one per searchable field, computed
/// from the record's own text (the index stores no text).
struct Marks {
    collection: Collection,
    mapping: Option<Mapping>,
    generators: Vec<(MappedField, SnippetGenerator)>,
}

impl Highlighter for Marks {
    fn highlight(&self, record: &Record) -> Map<String, Json> {
        let mut out = Map::new();
        let Some(mapping) = &self.mapping else {
            return out;
        };
        for (field, generator) in &self.generators {
            let text = mapping.texts(&self.collection, record, field).join("\n");
            let mut snippet = generator.snippet(&text);
            if snippet.highlighted().is_empty() {
                continue;
            }
            snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
            out.insert(field.name.clone(), Json::String(snippet.to_html()));
        }
        out
    }
}
