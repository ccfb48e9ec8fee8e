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
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

/// Entries kept before the cache is cleared wholesale.
const MAX_ENTRIES: usize = 4096;

/// Locks that make concurrent counts of one query wait for each other (striped: two
/// queries sharing a stripe only count one after the other).
const COUNTING_STRIPES: usize = 64;

pub struct CountCache {
    version: AtomicU64,
    totals: Mutex<HashMap<(String, String), (u64, usize)>>,
    counting: Vec<Mutex<()>>,
}

impl Default for CountCache {
    fn default() -> CountCache {
        CountCache {
            version: AtomicU64::new(0),
            totals: Mutex::default(),
            counting: (0..COUNTING_STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
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

    /// Held while counting `key`: when many requests miss the same total at once (a
    /// burst right after a write), one counts and the others, once it is done, find
    /// the total cached instead of each counting every match again.
    pub fn counting(&self, collection_id: &str, key: &str) -> MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (collection_id, key).hash(&mut hasher);
        let stripe = (hasher.finish() % COUNTING_STRIPES as u64) as usize;
        self.counting[stripe].lock()
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

    #[test]
    fn concurrent_counts_of_one_query_take_turns() {
        let cache = std::sync::Arc::new(CountCache::default());
        let held = cache.counting("c", "views>1");
        let (tx, rx) = std::sync::mpsc::channel();
        let other = {
            let cache = cache.clone();
            std::thread::spawn(move || {
                let _turn = cache.counting("c", "views>1");
                tx.send(()).unwrap();
            })
        };
        // The second counter waits for the first.
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(100))
            .is_err());
        drop(held);
        rx.recv().unwrap();
        other.join().unwrap();
    }
}
