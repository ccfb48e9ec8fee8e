//! A cache of list totals. Counting every match of a filter is the expensive part of a
//! paged list (the page itself stops early); totals are kept per collection and
//! query, tagged with the collection's write version, and reused until the next write
//! to that collection. Every record write goes through the services, which bump the
//! version after committing, so a cached total is never reused across a write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Entries kept before the cache is cleared wholesale.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct CountCache {
    versions: Mutex<HashMap<String, u64>>,
    next_version: AtomicU64,
    totals: Mutex<HashMap<(String, String), (u64, usize)>>,
}

impl CountCache {
    /// The current write version of a collection.
    pub fn version(&self, collection_id: &str) -> u64 {
        self.versions
            .lock()
            .get(collection_id)
            .copied()
            .unwrap_or(0)
    }

    /// Marks a collection as written: totals cached before are no longer used.
    pub fn bump(&self, collection_id: &str) {
        let v = self.next_version.fetch_add(1, Ordering::Relaxed) + 1;
        self.versions.lock().insert(collection_id.to_owned(), v);
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
    fn a_write_invalidates_cached_totals() {
        let cache = CountCache::default();
        let v = cache.version("c");
        cache.put("c", "views>1".into(), v, 7);
        assert_eq!(cache.get("c", "views>1", cache.version("c")), Some(7));
        cache.bump("other");
        assert_eq!(cache.get("c", "views>1", cache.version("c")), Some(7));
        cache.bump("c");
        assert_eq!(cache.get("c", "views>1", cache.version("c")), None);
    }
}
