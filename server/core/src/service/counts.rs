//! A cache of list totals. Counting every match of a filter is the expensive part of a
//! paged list (the page itself stops early); totals are kept per collection and query,
//! tagged with the store's write version, and reused until the next write.
//!
//! The version is global, not per collection: a filter or an API rule can read other
//! collections (`author.name = 'x'`, back-relations, `@collection.*`), so a write
//! anywhere may change a total. Every record and schema write goes through the
//! services, which bump the version right after committing, so a cached total is never
//! reused across a write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Entries kept before the cache is cleared wholesale.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct CountCache {
    version: AtomicU64,
    totals: Mutex<HashMap<(String, String), (u64, usize)>>,
}

impl CountCache {
    /// The current write version.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Records that something was written: totals cached before are no longer used.
    pub fn bump(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get(&self, collection_id: &str, key: &str, version: u64) -> Option<usize> {
        let totals = self.totals.lock();
        match totals.get(&(collection_id.to_owned(), key.to_owned())) {
            Some((v, total)) if *v == version => Some(*total),
            _ => None,
        }
    }

    pub fn put(&self, collection_id: &str, key: String, version: u64, total: usize) {
        let mut totals = self.totals.lock();
        if totals.len() >= MAX_ENTRIES {
            totals.clear();
        }
        totals.insert((collection_id.to_owned(), key), (version, total));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_write_invalidates_cached_totals() {
        let cache = CountCache::default();
        let v = cache.version();
        cache.put("c", "views>1".into(), v, 7);
        assert_eq!(cache.get("c", "views>1", cache.version()), Some(7));
        assert_eq!(cache.get("c", "views>2", cache.version()), None);
        cache.bump();
        assert_eq!(cache.get("c", "views>1", cache.version()), None);
    }
}
