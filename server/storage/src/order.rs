//! The order of list results, and the bounded top-k collector that produces a page of
//! a sorted result without sorting everything.
//!
//! Order: the sort keys in turn (values compared with `Value::total_cmp`), then the
//! record id in the direction of the last sort key, so pages are stable. With no sort
//! keys: insertion order. `SortKey::Random` gives every candidate a random key, which
//! makes the top-k a uniform random sample.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use basalt_core::filter::{Lookup, SortKey};
use basalt_core::record::Record;
use basalt_core::Value;

use crate::StorageError;

/// One component of a record's rank.
#[derive(Debug)]
enum Key {
    Asc(Value),
    Desc(Value),
    Seq(u64),
}

impl Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Asc(a), Key::Asc(b)) => a.total_cmp(b),
            (Key::Desc(a), Key::Desc(b)) => b.total_cmp(a),
            (Key::Seq(a), Key::Seq(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

/// A record with its rank under one sort.
#[derive(Debug)]
pub(crate) struct Ranked {
    keys: Vec<Key>,
    pub record: Record,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.keys.iter().zip(&other.keys) {
            let ord = a.cmp(b);
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

/// Ranks `record` (inserted at `created`) under `sort`.
pub(crate) fn rank(
    sort: &[SortKey],
    record: Record,
    created: u64,
    lookup: &dyn Lookup,
) -> Result<Ranked, StorageError> {
    let Some(last) = sort.last() else {
        return Ok(Ranked {
            keys: vec![Key::Seq(created)],
            record,
        });
    };
    let mut keys = Vec::with_capacity(sort.len() + 1);
    for key in sort {
        let value = if matches!(key, SortKey::Random) {
            Value::Number(rand::random::<f64>())
        } else {
            key.value(&record, lookup).map_err(StorageError::Core)?
        };
        keys.push(if key.desc() {
            Key::Desc(value)
        } else {
            Key::Asc(value)
        });
    }
    let id = Value::Text(record.id().to_owned());
    keys.push(if last.desc() {
        Key::Desc(id)
    } else {
        Key::Asc(id)
    });
    Ok(Ranked { keys, record })
}

/// Keeps the `k` first records seen, in rank order, in O(k) memory.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Ranked>,
}

impl TopK {
    pub fn new(k: usize) -> TopK {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(4096)),
        }
    }

    /// Offers a record; it is kept while it ranks among the `k` best seen so far.
    pub fn push(&mut self, ranked: Ranked) {
        if self.heap.len() < self.k {
            self.heap.push(ranked);
        } else if self.heap.peek().is_some_and(|worst| ranked < *worst) {
            self.heap.pop();
            self.heap.push(ranked);
        }
    }

    /// The kept records, best first.
    pub fn into_sorted(self) -> Vec<Record> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.record)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoLookup;
    impl Lookup for NoLookup {
        fn get(
            &self,
            _: &basalt_core::schema::Collection,
            _: &str,
        ) -> basalt_core::Result<Option<Record>> {
            Ok(None)
        }
        fn referencing(
            &self,
            _: &basalt_core::schema::Collection,
            _: usize,
            _: &str,
        ) -> basalt_core::Result<Vec<Record>> {
            Ok(Vec::new())
        }
        fn scan(
            &self,
            _: &basalt_core::schema::Collection,
            _: &mut dyn FnMut(Record) -> bool,
        ) -> basalt_core::Result<()> {
            Ok(())
        }
    }

    fn rec(id: &str, n: f64) -> Record {
        Record {
            values: vec![Value::text(id), Value::Number(n)],
        }
    }

    #[test]
    fn top_k_keeps_the_best_in_order_with_ties_by_id() {
        let sort = [SortKey::Field { pos: 1, desc: true }];
        let mut top = TopK::new(3);
        for (i, (id, n)) in [("e", 1.0), ("b", 5.0), ("a", 5.0), ("d", 3.0), ("c", 9.0)]
            .into_iter()
            .enumerate()
        {
            top.push(rank(&sort, rec(id, n), i as u64, &NoLookup).unwrap());
        }
        let ids: Vec<String> = top
            .into_sorted()
            .iter()
            .map(|r| r.id().to_owned())
            .collect();
        // Descending by value; the 5.0 tie is broken by id, descending like the last key.
        assert_eq!(ids, ["c", "b", "a"]);
    }

    #[test]
    fn no_sort_means_insertion_order() {
        let mut top = TopK::new(2);
        for (seq, id) in [(3, "a"), (1, "b"), (2, "c")] {
            top.push(rank(&[], rec(id, 0.0), seq, &NoLookup).unwrap());
        }
        let ids: Vec<String> = top
            .into_sorted()
            .iter()
            .map(|r| r.id().to_owned())
            .collect();
        assert_eq!(ids, ["b", "c"]);
    }
}
