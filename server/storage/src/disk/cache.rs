//! Stored records by id, in front of a collection's records tree. A list page reads
//! each of its records by id (an index names them in its order), and a hash lookup
//! costs a fraction of sled's walk down the tree for it.
//!
//! Coherence: a commit applies its writes to sled first and then puts the values it
//! wrote in the cache (or forgets the ids, if applying failed), bumping the cache's
//! generation; a reader that missed keeps what it read only if the generation did not
//! move while it read, so a value read before a write applied is never kept after it. Schema changes open new [`super::Handles`], with a
//! new cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ::sled::{IVec, Tree};

/// A rough overhead per entry, on top of its key and value.
const ENTRY_OVERHEAD: usize = 64;

/// The bytes all the collections' caches of a store may hold together.
#[derive(Debug)]
pub(crate) struct Budget {
    max: usize,
    used: AtomicUsize,
}

impl Budget {
    pub fn new(max: usize) -> Arc<Budget> {
        Arc::new(Budget {
            max,
            used: AtomicUsize::new(0),
        })
    }
}

pub(crate) struct RecordCache {
    inner: parking_lot::RwLock<Inner>,
    budget: Arc<Budget>,
}

#[derive(Default)]
struct Inner {
    values: HashMap<Box<[u8]>, IVec>,
    bytes: usize,
    /// Bumped by every commit that wrote to the tree.
    generation: u64,
}

fn cost(id: &[u8], value: &[u8]) -> usize {
    id.len() + value.len() + ENTRY_OVERHEAD
}

impl RecordCache {
    pub fn new(budget: Arc<Budget>) -> RecordCache {
        RecordCache {
            inner: parking_lot::RwLock::default(),
            budget,
        }
    }

    /// The stored value of `id` in `records`, the tree this cache is in front of.
    pub fn get(&self, records: &Tree, id: &[u8]) -> ::sled::Result<Option<IVec>> {
        let generation = {
            let inner = self.inner.read();
            if let Some(value) = inner.values.get(id) {
                // A private copy: threads reading a popular record never share its
                // reference count, whose cache line would move between cores on
                // every read (two threads listing the same page: 19.2 -> 17.3 us).
                return Ok(Some(IVec::from(&value[..])));
            }
            inner.generation
        };
        let Some(found) = records.get(id)? else {
            return Ok(None);
        };
        // A copy of its own: sled's value may share a buffer with the rest of its node.
        let value = IVec::from(&found[..]);
        let mut inner = self.inner.write();
        if inner.generation == generation && !inner.values.contains_key(id) {
            self.keep(&mut inner, id, value.clone());
        }
        Ok(Some(value))
    }

    /// Takes a commit's writes to the tree, once sled has them: the values written
    /// replace the cached ones, removed records are forgotten.
    pub fn write<'a>(&self, writes: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>) {
        let mut inner = self.inner.write();
        for (id, value) in writes {
            self.remove(&mut inner, id);
            if let Some(value) = value {
                self.keep(&mut inner, id, IVec::from(value));
            }
        }
        inner.generation += 1;
    }

    /// Forgets `ids`, whose writes may or may not have reached the tree.
    pub fn forget<'a>(&self, ids: impl IntoIterator<Item = &'a [u8]>) {
        let mut inner = self.inner.write();
        for id in ids {
            self.remove(&mut inner, id);
        }
        inner.generation += 1;
    }

    /// Keeps `value` for `id` if the budget allows; when it is spent, this collection's
    /// cache starts over first (other collections may hold the rest of it).
    fn keep(&self, inner: &mut Inner, id: &[u8], value: IVec) {
        let cost = cost(id, &value);
        let budget = &self.budget;
        if budget.used.load(Ordering::Relaxed) + cost > budget.max {
            inner.values.clear();
            budget.used.fetch_sub(inner.bytes, Ordering::Relaxed);
            inner.bytes = 0;
        }
        if budget.used.fetch_add(cost, Ordering::Relaxed) + cost <= budget.max {
            inner.bytes += cost;
            inner.values.insert(id.into(), value);
        } else {
            budget.used.fetch_sub(cost, Ordering::Relaxed);
        }
    }

    fn remove(&self, inner: &mut Inner, id: &[u8]) {
        if let Some(value) = inner.values.remove(id) {
            let cost = cost(id, &value);
            inner.bytes -= cost;
            self.budget.used.fetch_sub(cost, Ordering::Relaxed);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.read().values.len()
    }
}

impl Drop for RecordCache {
    /// A collection dropped or redefined gives its bytes back.
    fn drop(&mut self) {
        let bytes = self.inner.get_mut().bytes;
        self.budget.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.read();
        f.debug_struct("RecordCache")
            .field("entries", &inner.values.len())
            .field("bytes", &inner.bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_share_one_budget_and_give_it_back() {
        let db = ::sled::Config::new().temporary(true).open().unwrap();
        let (a, b) = (db.open_tree("a").unwrap(), db.open_tree("b").unwrap());
        for n in 0..100u32 {
            let id = format!("{n:015}");
            a.insert(&id, vec![7u8; 100]).unwrap();
            b.insert(&id, vec![8u8; 100]).unwrap();
        }
        let budget = Budget::new(20 * cost(&[0; 15], &[0; 100]));
        let (ca, cb) = (
            RecordCache::new(budget.clone()),
            RecordCache::new(budget.clone()),
        );
        for n in 0..100u32 {
            let id = format!("{n:015}");
            assert_eq!(ca.get(&a, id.as_bytes()).unwrap().unwrap()[0], 7);
            assert_eq!(cb.get(&b, id.as_bytes()).unwrap().unwrap()[0], 8);
            assert!(budget.used.load(Ordering::Relaxed) <= budget.max);
        }
        assert!(ca.len() + cb.len() <= 20);
        assert!(cb.len() > 0);
        // A missing record is read, not kept.
        assert!(ca.get(&a, b"missing").unwrap().is_none());
        drop(ca);
        drop(cb);
        assert_eq!(budget.used.load(Ordering::Relaxed), 0);
    }
}
