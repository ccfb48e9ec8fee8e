//! [`MemoryStore`]: the record store in memory, a reference implementation.
//!
//! It keeps records encoded exactly as the sled store does and shares its index-key
//! and ordering rules, so unique checks, conflicts, seqs and result order agree; but it
//! answers every query with a plain scan, which makes it the oracle the sled planner
//! is tested against. Nothing is durable: `sync` returns at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use basalt_core::filter::Lookup;
use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::store::{Action, Change, Page, Query, RecordStore, Seq, Write};
use parking_lot::RwLock;

use crate::exec::{self, decode, Matcher, Raw, Spec};
use crate::layout::{reads_as, same_slots, Layout};
use crate::StorageError;

/// The in-memory record store.
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    collections: HashMap<String, Coll>,
    /// Each entry with a delete's last stored bytes, decoded when read.
    changes: BTreeMap<Seq, (Change, Option<Vec<u8>>)>,
    seq: Seq,
    settings: Option<Vec<u8>>,
}

struct Coll {
    layout: Layout,
    /// Record id → (creation seq, encoded record).
    records: BTreeMap<String, (Seq, Vec<u8>)>,
    /// Creation seq → record id: insertion order.
    order: BTreeMap<Seq, String>,
    /// Per index of the layout: for unique ones, index key → holder id.
    unique: Vec<Option<UniqueMap>>,
}

/// A unique index: key → the id of the record holding it.
type UniqueMap = BTreeMap<Vec<u8>, String>;

/// How to take back one step of a failed commit.
enum Undo {
    Record {
        coll: String,
        id: String,
        before: Option<(Seq, Vec<u8>)>,
    },
    Order {
        coll: String,
        seq: Seq,
        before: Option<String>,
    },
    Unique {
        coll: String,
        index: usize,
        key: Vec<u8>,
        before: Option<String>,
    },
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Runs a query by scanning: insertion order when unsorted, ranked otherwise.
    pub(crate) fn run_query(
        &self,
        collection: &Collection,
        spec: &Spec<'_>,
    ) -> Result<Page, StorageError> {
        let state = self.state.read_recursive();
        let Some(coll) = state.collections.get(&collection.id) else {
            return Ok(Page {
                records: Vec::new(),
                total: spec.count_total.then_some(0),
                over_budget: false,
            });
        };
        fn raw((created, bytes): &(Seq, Vec<u8>)) -> Result<Raw<&[u8]>, StorageError> {
            Ok(Raw {
                created: *created,
                bytes: bytes.as_slice(),
            })
        }
        if spec.sort.is_empty() {
            let walk = coll
                .order
                .values()
                .filter_map(|id| coll.records.get(id))
                .map(raw);
            exec::run(collection, walk, true, spec, self)
        } else {
            exec::run(
                collection,
                coll.records.values().map(raw),
                false,
                spec,
                self,
            )
        }
    }
}

impl State {
    fn apply(
        &mut self,
        write: &Write,
        seq: Seq,
        undo: &mut Vec<Undo>,
    ) -> Result<(Change, Option<Vec<u8>>), StorageError> {
        let crate::write::Parts {
            writer,
            old,
            new,
            action,
            id,
        } = crate::write::parts(write)?;
        let coll = self
            .collections
            .get_mut(&writer.id)
            .ok_or_else(|| StorageError::CollectionNotFound(writer.id.clone()))?;
        let expected = old.map(|r| r.encode(writer));
        let layout = &coll.layout;
        let (created, old_view, bytes) = match (&expected, coll.records.get(&id)) {
            (None, Some(_)) => return Err(StorageError::IdExists(id)),
            (None, None) => (seq, None, new.map(|r| r.encode(writer))),
            (Some(_), None) => return Err(StorageError::Conflict(id)),
            (Some(expected), Some((created, stored))) => {
                if !reads_as(writer, stored, expected)? {
                    return Err(StorageError::Conflict(id));
                }
                let bytes = match new.map(|r| r.encode(writer)) {
                    Some(b) if !same_slots(writer, &layout.def) => {
                        Some(layout.keep_unknown(writer, &b, stored)?)
                    }
                    other => other,
                };
                (*created, Some(layout.decode(stored)?), bytes)
            }
        };
        let new_view = bytes.as_deref().map(|b| layout.decode(b)).transpose()?;
        let (old_derived, new_derived) = (
            layout.derive(old_view.as_ref()),
            layout.derive(new_view.as_ref()),
        );
        let entries = old_derived.entries.into_iter().zip(new_derived.entries);
        for (i, ((ix, map), (before, after))) in layout
            .indexes
            .iter()
            .zip(coll.unique.iter_mut())
            .zip(entries)
            .enumerate()
        {
            let Some(map) = map else { continue };
            let (before, after) = (before.map(|e| e.0), after.map(|e| e.0));
            if before == after {
                continue;
            }
            if let Some(key) = before.filter(|k| map.get(k) == Some(&id)) {
                let before = map.remove(&key);
                undo.push(Undo::Unique {
                    coll: writer.id.clone(),
                    index: i,
                    key,
                    before,
                });
            }
            if let Some(key) = after {
                if map.get(&key).is_some_and(|holder| *holder != id) {
                    return Err(crate::write::not_unique(&ix.name, &ix.column_names, action));
                }
                let before = map.insert(key.clone(), id.clone());
                undo.push(Undo::Unique {
                    coll: writer.id.clone(),
                    index: i,
                    key,
                    before,
                });
            }
        }
        let before = match bytes {
            Some(bytes) => coll.records.insert(id.clone(), (created, bytes)),
            None => coll.records.remove(&id),
        };
        let deleted = match (&before, action) {
            (Some((_, last)), Action::Delete) => Some(last.clone()),
            _ => None,
        };
        undo.push(Undo::Record {
            coll: writer.id.clone(),
            id: id.clone(),
            before,
        });
        let order_before = match action {
            Action::Create => Some(coll.order.insert(created, id.clone())),
            Action::Delete => Some(coll.order.remove(&created)),
            Action::Update => None,
        };
        if let Some(before) = order_before {
            undo.push(Undo::Order {
                coll: writer.id.clone(),
                seq: created,
                before,
            });
        }
        let change = Change {
            seq,
            collection_id: writer.id.clone(),
            record_id: id,
            action,
            deleted: None,
        };
        Ok((change, deleted))
    }

    fn roll_back(&mut self, undo: Vec<Undo>) {
        for step in undo.into_iter().rev() {
            match step {
                Undo::Record { coll, id, before } => {
                    if let Some(c) = self.collections.get_mut(&coll) {
                        match before {
                            Some(v) => c.records.insert(id, v),
                            None => c.records.remove(&id),
                        };
                    }
                }
                Undo::Order { coll, seq, before } => {
                    if let Some(c) = self.collections.get_mut(&coll) {
                        match before {
                            Some(id) => c.order.insert(seq, id),
                            None => c.order.remove(&seq),
                        };
                    }
                }
                Undo::Unique {
                    coll,
                    index,
                    key,
                    before,
                } => {
                    if let Some(Some(map)) = self
                        .collections
                        .get_mut(&coll)
                        .and_then(|c| c.unique.get_mut(index))
                    {
                        match before {
                            Some(id) => map.insert(key, id),
                            None => map.remove(&key),
                        };
                    }
                }
            }
        }
    }
}

/// The unique-index maps of `layout` over `records`; fails on a duplicate.
fn unique_maps(
    layout: &Layout,
    records: &BTreeMap<String, (Seq, Vec<u8>)>,
    creating: bool,
) -> Result<Vec<Option<UniqueMap>>, StorageError> {
    let mut maps = Vec::with_capacity(layout.indexes.len());
    for ix in &layout.indexes {
        if !ix.unique {
            maps.push(None);
            continue;
        }
        let mut map = BTreeMap::new();
        for (id, (_, bytes)) in records {
            let record = decode(&layout.def, bytes)?;
            let Some((key, _)) = layout.entry(ix, &record) else {
                continue;
            };
            if map.insert(key, id.clone()).is_some() {
                return Err(StorageError::IndexNotUnique {
                    index: ix.name.clone(),
                    creating,
                });
            }
        }
        maps.push(Some(map));
    }
    Ok(maps)
}

impl RecordStore for MemoryStore {
    fn load_settings(&self) -> basalt_core::Result<Option<Vec<u8>>> {
        Ok(self.state.read_recursive().settings.clone())
    }

    fn save_settings(&self, json: &[u8]) -> basalt_core::Result<Seq> {
        let mut state = self.state.write();
        state.seq += 1;
        state.settings = Some(json.to_vec());
        Ok(state.seq)
    }

    fn load_collections(&self) -> basalt_core::Result<Vec<Collection>> {
        let state = self.state.read_recursive();
        let mut all: Vec<Collection> = state
            .collections
            .values()
            .map(|c| (*c.layout.def).clone())
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }

    fn put_collection(
        &self,
        _old: Option<&Collection>,
        new: &Collection,
    ) -> basalt_core::Result<Seq> {
        let mut state = self.state.write();
        let layout = Layout::new(Arc::new(new.clone()))?;
        let empty = BTreeMap::new();
        let current = state.collections.get(&new.id);
        let unique = unique_maps(
            &layout,
            current.map_or(&empty, |c| &c.records),
            current.is_none(),
        )?;
        let (records, order) = state
            .collections
            .remove(&new.id)
            .map(|c| (c.records, c.order))
            .unwrap_or_default();
        state.seq += 1;
        state.collections.insert(
            new.id.clone(),
            Coll {
                layout,
                records,
                order,
                unique,
            },
        );
        Ok(state.seq)
    }

    fn delete_collection(&self, collection: &Collection) -> basalt_core::Result<Seq> {
        let mut state = self.state.write();
        state.collections.remove(&collection.id);
        state.seq += 1;
        Ok(state.seq)
    }

    fn commit(&self, writes: Vec<Write>) -> basalt_core::Result<Seq> {
        let mut state = self.state.write();
        let start = state.seq;
        let mut undo = Vec::new();
        let mut changes = Vec::with_capacity(writes.len());
        for (n, write) in writes.iter().enumerate() {
            match state.apply(write, start + n as Seq + 1, &mut undo) {
                Ok(change) => changes.push(change),
                Err(e) => {
                    state.roll_back(undo);
                    return Err(e.into());
                }
            }
        }
        state.seq = start + changes.len() as Seq;
        for (change, deleted) in changes {
            state.changes.insert(change.seq, (change, deleted));
        }
        Ok(state.seq)
    }

    fn sync(&self, _seq: Seq) -> basalt_core::Result<()> {
        Ok(())
    }

    fn query(&self, collection: &Arc<Collection>, query: &Query) -> basalt_core::Result<Page> {
        let matcher = |r: &Record| match &query.filter {
            Some(f) => f.matches(r, self, &query.request),
            None => Ok(true),
        };
        let spec = Spec {
            exact: false,
            sort: &query.sort,
            offset: query.offset,
            limit: query.limit,
            count_total: query.count_total,
            matcher: query.filter.is_some().then_some(&matcher as Matcher<'_>),
            budget: query.budget,
        };
        Ok(self.run_query(collection, &spec)?)
    }

    fn changes_since(&self, after: Seq, limit: usize) -> basalt_core::Result<Vec<Change>> {
        let state = self.state.read_recursive();
        let Some(start) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        Ok(state
            .changes
            .range(start..)
            .take(limit)
            .map(|(_, (change, deleted))| {
                let mut change = change.clone();
                change.deleted = deleted.as_deref().and_then(|bytes| {
                    let coll = state.collections.get(&change.collection_id)?;
                    coll.layout.decode(bytes).ok()
                });
                change
            })
            .collect())
    }
}

impl Lookup for MemoryStore {
    fn get(&self, collection: &Collection, id: &str) -> basalt_core::Result<Option<Record>> {
        let state = self.state.read_recursive();
        let Some(coll) = state.collections.get(&collection.id) else {
            return Ok(None);
        };
        match coll.records.get(id) {
            Some((_, bytes)) => Ok(Some(decode(collection, bytes)?)),
            None => Ok(None),
        }
    }

    fn referencing(
        &self,
        collection: &Collection,
        field_pos: usize,
        id: &str,
    ) -> basalt_core::Result<Vec<Record>> {
        let mut out = Vec::new();
        self.scan(collection, &mut |r| {
            if r.values
                .get(field_pos)
                .is_some_and(|v| v.strings().contains(&id))
            {
                out.push(r);
            }
            true
        })?;
        Ok(out)
    }

    fn scan(
        &self,
        collection: &Collection,
        visit: &mut dyn FnMut(Record) -> bool,
    ) -> basalt_core::Result<()> {
        let state = self.state.read_recursive();
        let Some(coll) = state.collections.get(&collection.id) else {
            return Ok(());
        };
        for (_, bytes) in coll.records.values() {
            if !visit(decode(collection, bytes)?) {
                break;
            }
        }
        Ok(())
    }
}
