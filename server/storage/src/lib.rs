//! The sled implementation of Basalt's record store (`basalt_core::store::RecordStore`).
//!
//! Key layout (one sled tree each):
//! - `collections`: collection id → JSON of the versioned `StoredCollection`;
//! - `meta`: `format` → on-disk format version;
//! - `r/<collectionId>`: record id → 8-byte insertion sequence ++ `Record::encode` bytes;
//! - `o/<collectionId>`: insertion sequence ++ record id → empty (the default list order);
//! - `i/<collectionId>/<index>`: for unique indexes `index_key(values)` → record id, for
//!   the others `index_key(values) ++ record id` → empty;
//! - `changes`: sequence (u64 big-endian) → collection id, record id and action.
//!
//! Record, index, order and change-log entries of one commit are written in one sled
//! transaction; [`SledStore::sync`] makes them durable with a shared flush (group commit).
//!
//! This crate must never let sled types escape: everything public speaks core's types.

mod flush;
mod query;
mod write;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use basalt_core::filter::Lookup;
use basalt_core::record::Record;
use basalt_core::schema::{Collection, IndexDef, StoredCollection};
use basalt_core::store::{Action, Change, Page, Query, RecordStore, Seq, Write};
use basalt_core::{Error, Result};
use parking_lot::RwLock;

use flush::Flusher;

/// The on-disk format this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

#[derive(Clone, Debug)]
pub struct SledOptions {
    /// sled's page cache, in bytes.
    pub cache_capacity_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> SledOptions {
        SledOptions {
            cache_capacity_bytes: 64 << 20,
        }
    }
}

/// Errors of this crate, mapped to core's codes in one place.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("the data directory was written by a newer Basalt (format {found}, this build reads up to {FORMAT_VERSION})")]
    NewerFormat { found: u64 },
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Error {
        match e {
            StorageError::Sled(_) | StorageError::Corrupt(_) | StorageError::NewerFormat { .. } => {
                Error::internal(e)
            }
        }
    }
}

fn sled_err(e: sled::Error) -> Error {
    Error::from(StorageError::Sled(e))
}

/// The trees of one collection.
pub(crate) struct Trees {
    pub records: sled::Tree,
    pub order: sled::Tree,
    pub indexes: Vec<(IndexDef, sled::Tree)>,
}

pub struct SledStore {
    db: sled::Db,
    collections: sled::Tree,
    changes: sled::Tree,
    trees: RwLock<HashMap<String, Arc<Trees>>>,
    flusher: Flusher,
}

impl SledStore {
    pub fn open(dir: &Path, options: SledOptions) -> Result<SledStore, StorageError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity_bytes)
            .open()?;
        let meta = db.open_tree("meta")?;
        match meta.get("format")? {
            None => {
                meta.insert("format", &FORMAT_VERSION.to_be_bytes())?;
                db.flush()?;
            }
            Some(v) => {
                let found = u64::from_be_bytes(
                    v.as_ref()
                        .try_into()
                        .map_err(|_| StorageError::Corrupt("format version".into()))?,
                );
                if found > FORMAT_VERSION {
                    return Err(StorageError::NewerFormat { found });
                }
            }
        }
        Ok(SledStore {
            collections: db.open_tree("collections")?,
            changes: db.open_tree("changes")?,
            trees: RwLock::new(HashMap::new()),
            flusher: Flusher::start(db.clone()),
            db,
        })
    }

    /// How many flushes have run: group commit makes this far smaller than the number
    /// of synced writes.
    pub fn flush_count(&self) -> u64 {
        self.flusher.count()
    }

    pub(crate) fn trees(&self, c: &Collection) -> Result<Arc<Trees>> {
        if let Some(t) = self.trees.read().get(&c.id) {
            if t.indexes.len() == c.index_defs.len()
                && t.indexes
                    .iter()
                    .zip(&c.index_defs)
                    .all(|((d, _), n)| d == n)
            {
                return Ok(t.clone());
            }
        }
        let trees = Arc::new(Trees {
            records: self.db.open_tree(format!("r/{}", c.id)).map_err(sled_err)?,
            order: self.db.open_tree(format!("o/{}", c.id)).map_err(sled_err)?,
            indexes: c
                .index_defs
                .iter()
                .map(|d| {
                    Ok((
                        d.clone(),
                        self.db
                            .open_tree(format!("i/{}/{}", c.id, d.name))
                            .map_err(sled_err)?,
                    ))
                })
                .collect::<Result<_>>()?,
        });
        self.trees.write().insert(c.id.clone(), trees.clone());
        Ok(trees)
    }

    fn decode(c: &Collection, bytes: &[u8]) -> Result<Record> {
        let body = bytes
            .get(8..)
            .ok_or_else(|| Error::internal("record value too short"))?;
        Record::decode(c, body).map_err(Error::internal)
    }

    fn next_seq(&self) -> Result<Seq> {
        self.db.generate_id().map_err(sled_err)
    }

    /// Rebuilds the index `def` of `c` from its records.
    fn build_index(&self, c: &Collection, def: &IndexDef, tree: &sled::Tree) -> Result<()> {
        tree.clear().map_err(sled_err)?;
        let records = self.trees(c)?.records.clone();
        for item in records.iter() {
            let (_, v) = item.map_err(sled_err)?;
            let record = Self::decode(c, &v)?;
            let Some(key) = write::index_entry(c, def, &record) else {
                continue;
            };
            if def.unique {
                if tree
                    .insert(key, record.id().as_bytes())
                    .map_err(sled_err)?
                    .is_some()
                {
                    return Err(write::unique_error(def));
                }
            } else {
                tree.insert(key, &[]).map_err(sled_err)?;
            }
        }
        Ok(())
    }
}

impl Lookup for SledStore {
    fn get(&self, collection: &Collection, id: &str) -> Result<Option<Record>> {
        let trees = self.trees(collection)?;
        match trees.records.get(id.as_bytes()).map_err(sled_err)? {
            Some(v) => Ok(Some(Self::decode(collection, &v)?)),
            None => Ok(None),
        }
    }

    fn referencing(
        &self,
        collection: &Collection,
        field_pos: usize,
        id: &str,
    ) -> Result<Vec<Record>> {
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

    fn scan(&self, collection: &Collection, visit: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        let trees = self.trees(collection)?;
        for item in trees.records.iter() {
            let (_, v) = item.map_err(sled_err)?;
            if !visit(Self::decode(collection, &v)?) {
                break;
            }
        }
        Ok(())
    }
}

impl RecordStore for SledStore {
    fn load_collections(&self) -> Result<Vec<Collection>> {
        let mut out = Vec::new();
        for item in self.collections.iter() {
            let (_, v) = item.map_err(sled_err)?;
            let stored: StoredCollection = serde_json::from_slice(&v).map_err(Error::internal)?;
            out.push(stored.into_collection()?);
        }
        Ok(out)
    }

    fn put_collection(&self, old: Option<&Collection>, new: &Collection) -> Result<Seq> {
        let kept = |d: &IndexDef| old.is_some_and(|o| o.index_defs.contains(d));
        let trees = self.trees(new)?;
        for (def, tree) in &trees.indexes {
            if !kept(def) {
                if let Err(e) = self.build_index(new, def, tree) {
                    let _ = self.db.drop_tree(format!("i/{}/{}", new.id, def.name));
                    self.trees.write().remove(&new.id);
                    return Err(e);
                }
            }
        }
        if let Some(o) = old {
            for def in o.index_defs.iter().filter(|d| !new.index_defs.contains(d)) {
                if !new.index_defs.iter().any(|n| n.name == def.name) {
                    self.db
                        .drop_tree(format!("i/{}/{}", o.id, def.name))
                        .map_err(sled_err)?;
                }
            }
        }
        let json =
            serde_json::to_vec(&StoredCollection::from_collection(new)).map_err(Error::internal)?;
        self.collections
            .insert(new.id.as_bytes(), json)
            .map_err(sled_err)?;
        self.next_seq()
    }

    fn delete_collection(&self, c: &Collection) -> Result<Seq> {
        self.collections.remove(c.id.as_bytes()).map_err(sled_err)?;
        self.trees.write().remove(&c.id);
        for name in [format!("r/{}", c.id), format!("o/{}", c.id)] {
            self.db.drop_tree(name).map_err(sled_err)?;
        }
        for d in &c.index_defs {
            self.db
                .drop_tree(format!("i/{}/{}", c.id, d.name))
                .map_err(sled_err)?;
        }
        self.next_seq()
    }

    fn commit(&self, writes: Vec<Write>) -> Result<Seq> {
        write::commit(self, writes)
    }

    fn sync(&self, seq: Seq) -> Result<()> {
        let _ = seq;
        self.flusher.sync().map_err(sled_err)
    }

    fn query(&self, collection: &Arc<Collection>, query: &Query) -> Result<Page> {
        query::run(self, collection, query)
    }

    fn changes_since(&self, after: Seq, limit: usize) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        for item in self.changes.range((after + 1).to_be_bytes()..).take(limit) {
            let (k, v) = item.map_err(sled_err)?;
            let seq = u64::from_be_bytes(
                k.as_ref()
                    .try_into()
                    .map_err(|_| Error::internal("bad change key"))?,
            );
            out.push(write::decode_change(seq, &v)?);
        }
        Ok(out)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.flusher.stop();
        let _ = self.db.flush();
    }
}

pub(crate) fn action_byte(a: Action) -> u8 {
    match a {
        Action::Create => 1,
        Action::Update => 2,
        Action::Delete => 3,
    }
}
