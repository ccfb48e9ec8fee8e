//! How one collection definition maps onto trees and keys: its secondary indexes with
//! field positions resolved, its relation fields, and the entries a record produces.
//! Shared by both stores so that unique checks mean the same thing in each.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use basalt_core::codec::{decode_record, encode_record, index_key};
use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::Value;

use crate::keys;
use crate::planner::IndexShape;
use crate::StorageError;

static NULL: Value = Value::Null;

/// A stored collection definition, compiled for storage.
#[derive(Debug)]
pub(crate) struct Layout {
    pub def: Arc<Collection>,
    pub indexes: Vec<IndexLayout>,
    pub relations: Vec<RelationLayout>,
}

#[derive(Debug)]
pub(crate) struct IndexLayout {
    pub name: String,
    pub unique: bool,
    /// Positions of the columns in `def.fields`, in key order.
    pub columns: Vec<usize>,
    pub column_names: Vec<String>,
    /// Partial index: records whose field at this position is zero are not indexed.
    pub skip: Option<usize>,
    pub tree: String,
}

#[derive(Debug)]
pub(crate) struct RelationLayout {
    pub pos: usize,
    pub tree: String,
}

/// An index entry: `(key, value)`, or `None` when a partial index skips the record.
pub(crate) type Entry = Option<(Vec<u8>, Vec<u8>)>;

/// What one version of a record puts into the index and reverse trees.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Derived {
    /// Per index of the layout.
    pub entries: Vec<Entry>,
    /// Per relation field of the layout: the ids pointed at.
    pub targets: Vec<BTreeSet<String>>,
}

fn corrupt(collection: &Collection, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("record of {}: {e}", collection.id))
}

/// Whether stored bytes (written under any definition) read, under `writer`, as the
/// record whose encoding under `writer` is `expected`: the conflict check of updates
/// and deletes. Bytes differ without a conflict when the stored record predates a
/// field that was added or removed since.
pub(crate) fn reads_as(
    writer: &Collection,
    stored: &[u8],
    expected: &[u8],
) -> Result<bool, StorageError> {
    if stored == expected {
        return Ok(true);
    }
    let seen = Record::decode(writer, stored).map_err(|e| corrupt(writer, e))?;
    Ok(seen.encode(writer) == expected)
}

impl Layout {
    pub fn new(def: Arc<Collection>) -> Result<Layout, StorageError> {
        let mut indexes = Vec::with_capacity(def.index_defs.len());
        for ix in &def.index_defs {
            let position = |name: &str| {
                def.field_pos(name).ok_or_else(|| {
                    StorageError::InvalidDefinition(format!(
                        "index {} of {} names unknown field {name}",
                        ix.name, def.id
                    ))
                })
            };
            let columns = ix
                .columns
                .iter()
                .map(|c| position(c))
                .collect::<Result<Vec<_>, _>>()?;
            let skip = ix.skip_empty.as_deref().map(position).transpose()?;
            let slot = |p: usize| def.fields.get(p).map_or(0, |f| f.slot);
            let sig = signature(ix.unique, columns.iter().map(|&p| slot(p)), skip.map(slot));
            indexes.push(IndexLayout {
                name: ix.name.clone(),
                unique: ix.unique,
                columns,
                column_names: ix.columns.clone(),
                skip,
                tree: keys::index_tree(&def.id, &ix.name, sig),
            });
        }
        let relations = def
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.relation().is_some())
            .map(|(pos, f)| RelationLayout {
                pos,
                tree: keys::reverse_tree(&def.id, &f.id),
            })
            .collect();
        Ok(Layout {
            def,
            indexes,
            relations,
        })
    }

    /// Every tree name this collection uses.
    pub fn trees(&self) -> Vec<String> {
        let mut names = vec![
            keys::records_tree(&self.def.id),
            keys::order_tree(&self.def.id),
        ];
        names.extend(self.indexes.iter().map(|i| i.tree.clone()));
        names.extend(self.relations.iter().map(|r| r.tree.clone()));
        names
    }

    /// `record`, written by a caller holding the definition `writer`, as this layout's
    /// definition sees it: exactly what decoding its stored bytes with `def` gives.
    pub fn align<'a>(
        &self,
        writer: &Collection,
        record: &'a Record,
        encoded: &[u8],
    ) -> Result<Cow<'a, Record>, StorageError> {
        if same_slots(writer, &self.def) {
            return Ok(Cow::Borrowed(record));
        }
        self.decode(encoded).map(Cow::Owned)
    }

    /// What `record` (aligned with `def`; `None`: no record) puts into the indexes
    /// and reverse trees.
    pub fn derive(&self, record: Option<&Record>) -> Derived {
        let Some(r) = record else {
            return Derived {
                entries: vec![None; self.indexes.len()],
                targets: vec![BTreeSet::new(); self.relations.len()],
            };
        };
        Derived {
            entries: self.indexes.iter().map(|ix| self.entry(ix, r)).collect(),
            targets: self
                .relations
                .iter()
                .map(|rel| {
                    self.targets(rel, r)
                        .into_iter()
                        .map(str::to_owned)
                        .collect()
                })
                .collect(),
        }
    }

    /// `new`, encoded by a writer whose definition lacks some of `def`'s fields, with
    /// the values of those fields carried over from `stored`, so a writer holding a
    /// definition older than the store's loses nothing it did not know about.
    pub fn keep_unknown(
        &self,
        writer: &Collection,
        new: &[u8],
        stored: &[u8],
    ) -> Result<Vec<u8>, StorageError> {
        let known = |slot: u32| writer.fields.iter().any(|f| f.slot == slot);
        let live = |slot: u32| self.def.fields.iter().any(|f| f.slot == slot);
        let mut pairs = decode_record(new).map_err(|e| corrupt(writer, e))?;
        let stored = decode_record(stored).map_err(|e| corrupt(&self.def, e))?;
        pairs.extend(
            stored
                .into_iter()
                .filter(|(slot, _)| !known(*slot) && live(*slot)),
        );
        Ok(encode_record(pairs.iter().map(|(slot, v)| (*slot, v))))
    }

    /// Decodes stored bytes with `def`.
    pub fn decode(&self, bytes: &[u8]) -> Result<Record, StorageError> {
        Record::decode(&self.def, bytes).map_err(|e| corrupt(&self.def, e))
    }

    /// The entry `record` (aligned with `def`) has in `ix`: `(key, value)`, or `None`
    /// when a partial index skips it.
    pub fn entry(&self, ix: &IndexLayout, record: &Record) -> Option<(Vec<u8>, Vec<u8>)> {
        let value = |pos: usize| record.values.get(pos).unwrap_or(&NULL);
        if ix.skip.is_some_and(|s| value(s).is_zero()) {
            return None;
        }
        let values: Vec<&Value> = ix.columns.iter().map(|&p| value(p)).collect();
        let mut key = index_key(&values);
        let id = record.id().as_bytes();
        if ix.unique {
            Some((key, id.to_vec()))
        } else {
            key.extend_from_slice(id);
            Some((key, Vec::new()))
        }
    }

    /// The ids `record` (aligned with `def`) points at through relation `rel`.
    pub fn targets<'r>(&self, rel: &RelationLayout, record: &'r Record) -> BTreeSet<&'r str> {
        record
            .values
            .get(rel.pos)
            .map(|v| v.strings().into_iter().collect())
            .unwrap_or_default()
    }

    /// The planner's view of the indexes, in `caller`'s field positions (matched by
    /// storage slot); `None` for an index with a column `caller` does not know.
    pub fn shapes(&self, caller: &Collection) -> Vec<Option<IndexShape>> {
        let pos_in_caller = |p: usize| {
            let slot = self.def.fields.get(p)?.slot;
            caller.fields.iter().position(|f| f.slot == slot)
        };
        self.indexes
            .iter()
            .map(|ix| {
                let columns = ix
                    .columns
                    .iter()
                    .map(|&p| pos_in_caller(p))
                    .collect::<Option<Vec<_>>>()?;
                let skip = match ix.skip {
                    Some(p) => Some(pos_in_caller(p)?),
                    None => None,
                };
                Some(IndexShape {
                    unique: ix.unique,
                    columns,
                    skip,
                })
            })
            .collect()
    }
}

/// Whether two definitions lay values out identically (same fields, same slots).
pub(crate) fn same_slots(a: &Collection, b: &Collection) -> bool {
    a.fields.len() == b.fields.len()
        && a.fields
            .iter()
            .zip(&b.fields)
            .all(|(x, y)| x.slot == y.slot)
}

/// FNV-1a over what determines an index's contents. Field names are left out, so a
/// renamed field keeps its index.
fn signature(unique: bool, slots: impl Iterator<Item = u32>, skip: Option<u32>) -> u64 {
    let mut text = format!("{}|", u8::from(unique));
    for s in slots {
        text.push_str(&s.to_string());
        text.push(',');
    }
    if let Some(s) = skip {
        text.push_str(&format!("|{s}"));
    }
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
