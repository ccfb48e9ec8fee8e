//! A consistency check of one collection's trees against its records.

use super::Handles;
use crate::exec::decode;
use crate::{keys, StorageError};

/// Checks that every record decodes under its key, and that the insertion-order,
/// index and reverse trees hold exactly the entries the records call for.
pub(super) fn collection(handles: &Handles) -> Result<(), StorageError> {
    let layout = &handles.layout;
    let corrupt = |what: String| {
        Err(StorageError::Corrupt(format!(
            "collection {}: {what}",
            layout.def.id
        )))
    };
    let mut records = 0;
    let mut index_entries = vec![0usize; layout.indexes.len()];
    let mut reverse_entries = vec![0usize; layout.relations.len()];
    for kv in handles.records.iter() {
        let (key, value) = kv?;
        let id = String::from_utf8_lossy(&key).into_owned();
        let Some((created, body)) = keys::split_record_value(&value) else {
            return corrupt(format!("record {id} has no creation seq"));
        };
        let record = decode(&layout.def, body)?;
        if record.id() != id {
            return corrupt(format!("record stored under {id} has id {}", record.id()));
        }
        records += 1;
        if !handles.order.contains_key(keys::order_key(created, &id))? {
            return corrupt(format!("record {id} has no insertion-order entry"));
        }
        for ((ix, tree), count) in layout
            .indexes
            .iter()
            .zip(&handles.indexes)
            .zip(&mut index_entries)
        {
            let Some((k, v)) = layout.entry(ix, &record) else {
                continue;
            };
            if tree.get(&k)?.as_deref() != Some(v.as_slice()) {
                return corrupt(format!("record {id} is missing from index {}", ix.name));
            }
            *count += 1;
        }
        for ((rel, tree), count) in layout
            .relations
            .iter()
            .zip(&handles.reverse)
            .zip(&mut reverse_entries)
        {
            for target in layout.targets(rel, &record) {
                if !tree.contains_key(keys::reverse_key(target, &id))? {
                    return corrupt(format!(
                        "record {id} is missing from the reverse index of field {}",
                        rel.pos
                    ));
                }
                *count += 1;
            }
        }
    }
    if handles.order.len() != records {
        return corrupt(format!(
            "{} insertion-order entries for {records} records",
            handles.order.len()
        ));
    }
    for ((ix, tree), count) in layout
        .indexes
        .iter()
        .zip(&handles.indexes)
        .zip(index_entries)
    {
        if tree.len() != count {
            return corrupt(format!(
                "index {} has {} entries, expected {count}",
                ix.name,
                tree.len()
            ));
        }
    }
    for ((rel, tree), count) in layout
        .relations
        .iter()
        .zip(&handles.reverse)
        .zip(reverse_entries)
    {
        if tree.len() != count {
            return corrupt(format!(
                "reverse index of field {} has {} entries, expected {count}",
                rel.pos,
                tree.len()
            ));
        }
    }
    Ok(())
}
