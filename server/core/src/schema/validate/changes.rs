//! What an update changed, and the storage slots of fields.

use super::PbIndex;
use crate::schema::Collection;

/// What a successful update changed; callers use it to migrate data and indexes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// The previous name, when the collection was renamed.
    pub renamed_from: Option<String>,
    /// `(old name, new name)` of fields kept (by id) under a new name.
    pub renamed_fields: Vec<(String, String)>,
    /// Names (as they were) of fields that no longer exist.
    pub removed_fields: Vec<String>,
    /// `(name, target collection id)` of removed relation fields.
    pub removed_relations: Vec<(String, String)>,
    /// Names of fields that did not exist before.
    pub added_fields: Vec<String>,
    /// Names of indexes that are new or whose definition changed.
    pub added_indexes: Vec<String>,
    /// Names of indexes that were dropped or whose definition changed.
    pub dropped_indexes: Vec<String>,
}

/// Fields matched by id keep their slot; new fields take fresh ones. Slots are never
/// reused, so a value stored for a dropped field can never be read by a new one.
pub(super) fn assign_slots(c: &mut Collection, old: Option<&Collection>) {
    c.next_slot = old.map_or(0, |o| o.next_slot);
    for f in &mut c.fields {
        match old.and_then(|o| o.field_by_id(&f.id)) {
            Some(previous) => f.slot = previous.slot,
            None => {
                f.slot = c.next_slot;
                c.next_slot += 1;
            }
        }
    }
}

pub(super) fn changes(old: &Collection, new: &Collection) -> Changes {
    let mut ch = Changes {
        renamed_from: (old.name != new.name).then(|| old.name.clone()),
        ..Changes::default()
    };
    for f in &old.fields {
        match new.field_by_id(&f.id) {
            Some(n) if n.name != f.name => ch.renamed_fields.push((f.name.clone(), n.name.clone())),
            Some(_) => {}
            None => {
                ch.removed_fields.push(f.name.clone());
                if let Some(r) = f.relation() {
                    ch.removed_relations
                        .push((f.name.clone(), r.collection_id.clone()));
                }
            }
        }
    }
    ch.added_fields = new
        .fields
        .iter()
        .filter(|f| old.field_by_id(&f.id).is_none())
        .map(|f| f.name.clone())
        .collect();
    let defs = |c: &Collection| -> Vec<(String, String)> {
        c.indexes
            .iter()
            .filter_map(|i| PbIndex::parse(i))
            .map(|mut p| {
                let name = p.name.clone();
                p.table = String::new();
                (name, p.build())
            })
            .collect()
    };
    let (before, after) = (defs(old), defs(new));
    ch.added_indexes = after
        .iter()
        .filter(|d| !before.contains(d))
        .map(|d| d.0.clone())
        .collect();
    ch.dropped_indexes = before
        .iter()
        .filter(|d| !after.contains(d))
        .map(|d| d.0.clone())
        .collect();
    ch
}
