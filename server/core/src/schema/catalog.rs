//! The catalog: every compiled collection, as one immutable snapshot.
//!
//! Services hold the current snapshot in an `ArcSwap<Catalog>`; a request reads one
//! snapshot for its whole life, and a schema change swaps in a new one.

use std::sync::Arc;

use super::Collection;

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    collections: Vec<Arc<Collection>>,
}

impl Catalog {
    pub fn new(mut collections: Vec<Arc<Collection>>) -> Catalog {
        collections.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
        Catalog { collections }
    }

    /// Finds a collection by id, or by name ignoring ASCII case.
    pub fn get(&self, id_or_name: &str) -> Option<&Arc<Collection>> {
        self.collections
            .iter()
            .find(|c| c.id == id_or_name)
            .or_else(|| {
                self.collections
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(id_or_name))
            })
    }

    pub fn by_id(&self, id: &str) -> Option<&Arc<Collection>> {
        self.collections.iter().find(|c| c.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Collection>> {
        self.collections.iter()
    }

    /// A new snapshot with `c` added or replaced (matched by id).
    pub fn with(&self, c: Arc<Collection>) -> Catalog {
        let mut collections: Vec<_> = self
            .collections
            .iter()
            .filter(|x| x.id != c.id)
            .cloned()
            .collect();
        collections.push(c);
        Catalog::new(collections)
    }

    /// A new snapshot without the collection of id `id`.
    pub fn without(&self, id: &str) -> Catalog {
        Catalog::new(
            self.collections
                .iter()
                .filter(|x| x.id != id)
                .cloned()
                .collect(),
        )
    }

    /// Every relation field, anywhere, that points at the collection `target_id`:
    /// `(owning collection, field position)`.
    pub fn relations_to(&self, target_id: &str) -> Vec<(Arc<Collection>, usize)> {
        let mut out = Vec::new();
        for c in &self.collections {
            for (pos, f) in c.fields.iter().enumerate() {
                if f.relation().is_some_and(|r| r.collection_id == target_id) {
                    out.push((c.clone(), pos));
                }
            }
        }
        out
    }
}
