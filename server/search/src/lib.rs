//! Full-text search with tantivy: one index per collection with searchable fields,
//! under `<data dir>/search/`, kept in sync by an [`Indexer`] that follows the store's
//! change log, and served to the core through the `SearchIndex` port
//! ([`SearchEngine`]).
//!
//! This crate is the only one that names tantivy. It never decides who may see a
//! record: it returns ranked ids, and the core's services apply the same
//! authorization and filters as list.

mod engine;
mod index;
mod indexer;
mod mapping;
mod query;

use std::sync::atomic::AtomicBool;

use basalt_core::schema::Collection;
use basalt_core::service::Services;

pub use engine::{
    SearchEngine, SearchOptions, DEFAULT_COMMIT_MS, MAX_HIGHLIGHT_CHARS, MIN_WRITER_BYTES,
};
pub use indexer::Indexer;
pub use query::{MAX_SEARCH_TERMS, MIN_PREFIX_CHARS};

/// What can go wrong inside the search engine.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("tantivy: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("opening an index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("commit payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("{0}")]
    Core(basalt_core::Error),
    #[error("cancelled")]
    Cancelled,
}

impl From<basalt_core::Error> for SearchError {
    fn from(e: basalt_core::Error) -> SearchError {
        SearchError::Core(e)
    }
}

impl From<SearchError> for basalt_core::Error {
    fn from(e: SearchError) -> basalt_core::Error {
        match e {
            SearchError::Core(e) => e,
            e @ (SearchError::Tantivy(_)
            | SearchError::Directory(_)
            | SearchError::Io(_)
            | SearchError::Payload(_)
            | SearchError::Cancelled) => basalt_core::Error::internal(e),
        }
    }
}

/// Rebuilds `collection`'s index from the store (the server must not be running on
/// this data directory). `progress` hears the number of records indexed so far.
/// Returns how many records the new index holds; 0 and no index when the collection
/// has no searchable fields.
pub fn rebuild(
    engine: &SearchEngine,
    services: &Services,
    collection: &Collection,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, SearchError> {
    let dir = engine.collection_dir(&collection.id);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let Some(mapping) = mapping::Mapping::of(collection) else {
        return Ok(0);
    };
    let seq = indexer::log_end(services, 0)?;
    let cancel = AtomicBool::new(false);
    let index = indexer::build_with(
        engine, services, collection, mapping, seq, &cancel, progress,
    )?;
    Ok(index.num_docs())
}

#[cfg(test)]
mod tests;
