//! Collection definitions: loading them at open, creating, changing and deleting them
//! with their trees.
//!
//! A change builds every tree the new definition needs and the old one lacks (indexes
//! are named by a signature of their contents, so a changed index is a new tree), then
//! commits the definition, then drops the trees nothing references any more. A crash at
//! any point leaves either the old or the new definition with all its trees, plus
//! unreferenced trees that [`load`] drops on the next open.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ::sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};
use ::sled::{Batch, Db, Tree};
use basalt_core::schema::{Collection, StoredCollection};
use basalt_core::store::Seq;

use super::{Handles, Registry, SledStore};
use crate::exec::decode;
use crate::keys;
use crate::layout::{IndexLayout, Layout, RelationLayout};
use crate::StorageError;

/// Index entries written per batch while building an index.
const BATCH: usize = 1000;

/// Loads every stored collection, drops trees no definition references, and builds
/// any referenced tree that is missing.
pub(super) fn load(
    db: &Db,
    collections: &Tree,
    budget: &Arc<super::cache::Budget>,
) -> Result<Registry, StorageError> {
    let mut layouts = Vec::new();
    for item in collections.iter() {
        let (key, value) = item?;
        let id = String::from_utf8_lossy(&key).into_owned();
        let stored: StoredCollection = serde_json::from_slice(&value)
            .map_err(|e| StorageError::Corrupt(format!("collection {id}: {e}")))?;
        let def = stored
            .into_collection()
            .map_err(|e| StorageError::Corrupt(format!("collection {id}: {e}")))?;
        layouts.push(Layout::new(Arc::new(def))?);
    }
    let expected: HashSet<Vec<u8>> = layouts
        .iter()
        .flat_map(Layout::trees)
        .map(String::into_bytes)
        .collect();
    let mut present = HashSet::new();
    for name in db.tree_names() {
        if keys::is_collection_tree(&name) && !expected.contains(name.as_ref()) {
            tracing::warn!(tree = %String::from_utf8_lossy(&name), "dropping a tree no collection references");
            db.drop_tree(&name)?;
        } else {
            present.insert(name.to_vec());
        }
    }
    let mut registry = HashMap::with_capacity(layouts.len());
    for layout in layouts {
        let records = db.open_tree(keys::records_tree(&layout.def.id))?;
        for ix in layout
            .indexes
            .iter()
            .filter(|i| !present.contains(i.tree.as_bytes()))
        {
            tracing::warn!(index = %ix.name, collection = %layout.def.id, "rebuilding a missing index");
            build_index(db, &records, &layout, ix, false)?;
        }
        for rel in layout
            .relations
            .iter()
            .filter(|r| !present.contains(r.tree.as_bytes()))
        {
            build_reverse(db, &records, &layout, rel)?;
        }
        registry.insert(
            layout.def.id.clone(),
            Arc::new(Handles::open(db, layout, budget)?),
        );
    }
    Ok(registry)
}

impl SledStore {
    pub(super) fn put_collection_inner(&self, new: &Collection) -> Result<Seq, StorageError> {
        let mut registry = self.registry.write();
        self.checkpoint(&mut self.commit_lock.lock())?;
        let layout = Layout::new(Arc::new(new.clone()))?;
        let current = registry.get(&new.id).cloned();
        let mut names: HashSet<Vec<u8>> = self
            .db
            .tree_names()
            .into_iter()
            .filter(|n| keys::belongs_to(n, &new.id))
            .map(|n| n.to_vec())
            .collect();
        if current.is_none() {
            // Leftovers of an earlier collection with this id must not resurface.
            for name in names.drain() {
                self.db.drop_tree(name)?;
            }
        }
        let mut built = Vec::new();
        let result = self.build_missing(&layout, current.as_deref(), &names, &mut built);
        let result = result.and_then(|()| {
            let json =
                serde_json::to_vec(&StoredCollection::from_collection(new)).map_err(|e| {
                    StorageError::InvalidDefinition(format!("collection {}: {e}", new.id))
                })?;
            self.schema_commit(&new.id, Some(json))
        });
        let seq = match result {
            Ok(seq) => seq,
            Err(e) => {
                for name in built {
                    self.db.drop_tree(name)?;
                }
                return Err(e);
            }
        };
        let wanted: HashSet<Vec<u8>> = layout.trees().into_iter().map(String::into_bytes).collect();
        for name in names.iter().filter(|n| !wanted.contains(*n)) {
            if let Err(e) = self.db.drop_tree(name) {
                tracing::warn!(error = %e, tree = %String::from_utf8_lossy(name), "dropping an unused tree failed");
            }
        }
        registry.insert(
            new.id.clone(),
            Arc::new(Handles::open(&self.db, layout, &self.cache_budget)?),
        );
        self.flush_durably()?;
        self.durable_to(seq);
        Ok(seq)
    }

    /// Builds the trees `layout` needs that do not exist yet, noting each in `built`.
    fn build_missing(
        &self,
        layout: &Layout,
        current: Option<&Handles>,
        present: &HashSet<Vec<u8>>,
        built: &mut Vec<String>,
    ) -> Result<(), StorageError> {
        let records_name = keys::records_tree(&layout.def.id);
        if !present.contains(records_name.as_bytes()) {
            built.push(records_name.clone());
            built.push(keys::order_tree(&layout.def.id));
        }
        let records = self.db.open_tree(&records_name)?;
        for ix in layout
            .indexes
            .iter()
            .filter(|i| !present.contains(i.tree.as_bytes()))
        {
            built.push(ix.tree.clone());
            build_index(&self.db, &records, layout, ix, current.is_none())?;
        }
        for rel in layout
            .relations
            .iter()
            .filter(|r| !present.contains(r.tree.as_bytes()))
        {
            // A relation field that is new holds no values yet: its tree starts empty.
            let slot = layout.def.fields.get(rel.pos).map(|f| f.slot);
            let existed =
                current.is_some_and(|c| c.layout.def.fields.iter().any(|f| Some(f.slot) == slot));
            if existed {
                built.push(rel.tree.clone());
                build_reverse(&self.db, &records, layout, rel)?;
            }
        }
        Ok(())
    }

    pub(super) fn delete_collection_inner(
        &self,
        collection: &Collection,
    ) -> Result<Seq, StorageError> {
        let mut registry = self.registry.write();
        self.checkpoint(&mut self.commit_lock.lock())?;
        let seq = self.schema_commit(&collection.id, None)?;
        registry.remove(&collection.id);
        for name in self
            .db
            .tree_names()
            .into_iter()
            .filter(|n| keys::belongs_to(n, &collection.id))
        {
            // The definition is gone; a tree left here is dropped on the next open.
            if let Err(e) = self.db.drop_tree(&name) {
                tracing::warn!(error = %e, tree = %String::from_utf8_lossy(&name), "dropping a deleted collection's tree failed");
            }
        }
        self.flush_durably()?;
        self.durable_to(seq);
        Ok(seq)
    }

    /// Writes (or removes) one definition and allocates a seq for the change, atomically.
    /// Stores the settings document under a new sequence number.
    pub(super) fn save_settings_inner(&self, json: &[u8]) -> Result<Seq, StorageError> {
        let mut wal = self.commit_lock.lock();
        self.checkpoint(&mut wal)?;
        let result = self.meta.transaction(|meta| {
            let seq = meta
                .get(keys::SEQ_KEY)?
                .and_then(|v| keys::read_seq(&v))
                .unwrap_or(0)
                + 1;
            meta.insert(keys::SETTINGS_KEY, json)?;
            meta.insert(keys::SEQ_KEY, &keys::seq_bytes(seq))?;
            Ok::<_, ConflictableTransactionError<StorageError>>(seq)
        });
        let seq = match result {
            Ok(seq) => seq,
            Err(TransactionError::Abort(e)) => return Err(e),
            Err(TransactionError::Storage(e)) => return Err(e.into()),
        };
        self.flush_durably()?;
        self.durable_to(seq);
        Ok(seq)
    }

    fn schema_commit(&self, id: &str, json: Option<Vec<u8>>) -> Result<Seq, StorageError> {
        let trees = [self.collections.clone(), self.meta.clone()];
        let result = Transactional::<StorageError>::transaction(
            &trees[..],
            |views: &Vec<TransactionalTree>| {
                let (Some(collections), Some(meta)) = (views.first(), views.get(1)) else {
                    return Err(ConflictableTransactionError::Abort(StorageError::Corrupt(
                        "schema transaction".into(),
                    )));
                };
                let seq = meta
                    .get(keys::SEQ_KEY)?
                    .and_then(|v| keys::read_seq(&v))
                    .unwrap_or(0)
                    + 1;
                match &json {
                    Some(json) => collections.insert(id.as_bytes(), json.as_slice())?,
                    None => collections.remove(id.as_bytes())?,
                };
                meta.insert(keys::SEQ_KEY, &keys::seq_bytes(seq))?;
                Ok(seq)
            },
        );
        match result {
            Ok(seq) => Ok(seq),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }
}

/// Fills the (new) tree of `ix` from the records; fails on the first duplicate of a
/// unique index.
fn build_index(
    db: &Db,
    records: &Tree,
    layout: &Layout,
    ix: &IndexLayout,
    creating: bool,
) -> Result<(), StorageError> {
    let tree = db.open_tree(&ix.tree)?;
    let mut batch = Batch::default();
    let mut pending = 0;
    for item in records.iter() {
        let (_, value) = item?;
        let (_, body) = keys::split_record_value(&value).ok_or_else(|| {
            StorageError::Corrupt(format!("record of {} has no creation seq", layout.def.id))
        })?;
        let record = decode(&layout.def, body)?;
        let Some((key, value)) = layout.entry(ix, &record) else {
            continue;
        };
        if ix.unique {
            if tree
                .compare_and_swap(key, None::<&[u8]>, Some(value))?
                .is_err()
            {
                return Err(StorageError::IndexNotUnique {
                    index: ix.name.clone(),
                    creating,
                });
            }
            continue;
        }
        batch.insert(key, value);
        pending += 1;
        if pending == BATCH {
            tree.apply_batch(std::mem::take(&mut batch))?;
            pending = 0;
        }
    }
    if pending > 0 {
        tree.apply_batch(batch)?;
    }
    Ok(())
}

/// Fills the (new) reverse tree of `rel` from the records.
fn build_reverse(
    db: &Db,
    records: &Tree,
    layout: &Layout,
    rel: &RelationLayout,
) -> Result<(), StorageError> {
    let tree = db.open_tree(&rel.tree)?;
    let mut batch = Batch::default();
    let mut pending = 0;
    for item in records.iter() {
        let (key, value) = item?;
        let id = String::from_utf8_lossy(&key);
        let (_, body) = keys::split_record_value(&value)
            .ok_or_else(|| StorageError::Corrupt(format!("record {id} has no creation seq")))?;
        let record = decode(&layout.def, body)?;
        for target in layout.targets(rel, &record) {
            batch.insert(keys::reverse_key(target, &id), &[][..]);
            pending += 1;
        }
        if pending >= BATCH {
            tree.apply_batch(std::mem::take(&mut batch))?;
            pending = 0;
        }
    }
    tree.apply_batch(batch)?;
    Ok(())
}
