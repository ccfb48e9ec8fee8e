//! Client filters compiled once per schema: a list whose filter was seen since the
//! last schema change skips parsing and type-checking it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::filter::{CompileOptions, Filter};
use crate::schema::{Catalog, Collection};
use crate::Result;

/// Past this many filters the cache starts over.
const CAPACITY: usize = 512;

#[derive(Default)]
pub(super) struct FilterCache {
    entries: parking_lot::Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// The schema the filters were compiled against; another one empties the cache.
    catalog: Option<Arc<Catalog>>,
    /// By collection id, whether hidden fields are allowed, and the filter's text.
    filters: HashMap<String, Filter>,
}

impl Entries {
    /// Whether the kept filters were compiled against `catalog`.
    fn of(&self, catalog: &Arc<Catalog>) -> bool {
        self.catalog
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, catalog))
    }
}

impl FilterCache {
    /// `Filter::compile_with(input, collection, catalog, None, opts)`, from the cache
    /// when it can be. Only filters that read nothing but the record's own fields are
    /// kept: anything with an `@` (date macros, `@request.*`, `@collection.*`) is
    /// resolved per request, and what a join may see depends on the caller's roles.
    pub fn compile(
        &self,
        input: &str,
        collection: &Arc<Collection>,
        catalog: &Arc<Catalog>,
        opts: &CompileOptions,
    ) -> Result<Filter> {
        let key = (!input.contains('@'))
            .then(|| format!("{}\u{0}{}\u{0}{input}", collection.id, opts.allow_hidden));
        if let Some(key) = &key {
            let entries = self.entries.lock();
            if let Some(filter) = entries.filters.get(key).filter(|_| entries.of(catalog)) {
                return Ok(filter.clone());
            }
        }
        let filter = Filter::compile_with(input, collection, catalog, None, opts)?;
        if let Some(key) = key.filter(|_| filter.is_local()) {
            let mut entries = self.entries.lock();
            if !entries.of(catalog) || entries.filters.len() >= CAPACITY {
                entries.filters.clear();
                entries.catalog = Some(catalog.clone());
            }
            entries.filters.insert(key, filter.clone());
        }
        Ok(filter)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn posts(number_field: &str) -> Arc<Collection> {
        let c = json!({
            "id": "pbc_posts",
            "name": "posts",
            "type": "base",
            "fields": [
                {"name": "id", "type": "text", "primaryKey": true, "system": true},
                {"name": number_field, "type": "number"},
                {"name": "created", "type": "autodate", "onCreate": true},
            ],
        });
        Arc::new(serde_json::from_value(c).unwrap())
    }

    fn cached(cache: &FilterCache) -> usize {
        cache.entries.lock().filters.len()
    }

    #[test]
    fn filters_are_kept_per_schema_and_request_dependent_ones_never() {
        let cache = FilterCache::default();
        let opts = CompileOptions::default();
        let old = posts("views");
        let catalog = Arc::new(Catalog::new(vec![old.clone()]));
        cache.compile("views > 5", &old, &catalog, &opts).unwrap();
        cache.compile("views > 5", &old, &catalog, &opts).unwrap();
        assert_eq!(cached(&cache), 1);
        cache
            .compile("created > @now", &old, &catalog, &opts)
            .unwrap();
        assert_eq!(cached(&cache), 1, "a date macro is resolved per request");
        assert!(cache.compile("nope > 5", &old, &catalog, &opts).is_err());
        assert_eq!(cached(&cache), 1);

        // The field was renamed: the filter compiled before must not be served.
        let new = posts("score");
        let catalog = Arc::new(Catalog::new(vec![new.clone()]));
        assert!(cache.compile("views > 5", &new, &catalog, &opts).is_err());
        cache.compile("score > 5", &new, &catalog, &opts).unwrap();
        assert_eq!(cached(&cache), 1);
    }
}
