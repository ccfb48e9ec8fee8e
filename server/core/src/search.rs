//! The port the full-text search engine implements (tantivy in `basalt-search`).
//!
//! The engine keeps one index per collection with searchable fields, fed from the
//! store's change log; services only ask it for ranked record ids and highlighted
//! fragments, then load the records from the store and apply authorization there, so
//! search results obey exactly the conditions list does.

use serde_json::{Map, Value as Json};

use crate::record::Record;
use crate::schema::Collection;
use crate::Result;

/// The stemmer languages a collection's `searchLanguage` may name.
pub const LANGUAGES: &[&str] = &[
    "arabic",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
];

/// The longest `search` parameter accepted, in bytes.
pub const MAX_SEARCH_LEN: usize = 512;

/// The most ranked hits a search looks at when they must be filtered or sorted
/// outside the index (a `filter`, a record-level rule, or a `sort`): results and
/// totals then cover the best this many matches.
pub const MAX_SEARCH_HITS: usize = 10_000;

/// A search as a caller asked it.
#[derive(Clone, Copy, Debug)]
pub struct SearchQuery<'a> {
    /// The `search` parameter.
    pub text: &'a str,
    /// Superusers only: hidden fields, and an auth collection's `email`, are searched
    /// (and highlighted) too. Others cannot search or name them, just as filters
    /// cannot, so a search never reveals what the record's JSON would not show.
    pub all_fields: bool,
}

impl SearchQuery<'_> {
    /// Whether this caller may search `field` of `collection`.
    pub fn may_search(&self, collection: &Collection, field: &crate::schema::Field) -> bool {
        self.all_fields || !(field.hidden || (collection.is_auth() && field.name == "email"))
    }
}

/// One match, by record id.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub id: String,
    /// BM25 relevance; higher is better.
    pub score: f32,
}

/// A page of ranked matches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchHits {
    /// Best first.
    pub hits: Vec<SearchHit>,
    /// How many records match in all.
    pub total: usize,
}

/// The full-text search engine. Methods block; async callers use `spawn_blocking`.
pub trait SearchIndex: Send + Sync + 'static {
    /// The matches of `query` in `collection`, best first, skipping `offset` and
    /// returning at most `limit`. Bad query syntax and unknown or unsearchable field
    /// names are [`crate::Code::InvalidSearch`] errors.
    fn search(
        &self,
        collection: &Collection,
        query: &SearchQuery<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<SearchHits>;

    /// Something that marks up why records of `collection` matched `query`.
    fn highlighter(
        &self,
        collection: &Collection,
        query: &SearchQuery<'_>,
    ) -> Result<Box<dyn Highlighter>>;
}

/// Highlighted fragments for one query.
pub trait Highlighter {
    /// For each searchable field of `record` that matched: a fragment of its text with
    /// the matching words wrapped in `<mark>…</mark>` (the rest HTML-escaped).
    fn highlight(&self, record: &Record) -> Map<String, Json>;
}
