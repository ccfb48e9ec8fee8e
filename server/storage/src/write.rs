//! Atomic commits: records, order entries, index entries and change-log entries of all
//! writes in one sled transaction.

use std::collections::BTreeMap;

use basalt_core::codec::index_key;
use basalt_core::record::Record;
use basalt_core::schema::{Collection, IndexDef};
use basalt_core::store::{Action, Change, Seq, Write};
use basalt_core::{Code, Error, FieldError, Result};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::{action_byte, sled_err, SledStore};

/// Why a transaction was aborted on purpose.
enum Abort {
    Exists,
    Unique(IndexDef),
    Conflict,
    Internal(String),
}

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<Abort>>;

/// The key of `record` in index `def`, or `None` when a partial index skips it.
pub(crate) fn index_entry(c: &Collection, def: &IndexDef, record: &Record) -> Option<Vec<u8>> {
    if let Some(skip) = &def.skip_empty {
        if record.get(c, skip).is_none_or(|v| v.is_zero()) {
            return None;
        }
    }
    let values: Vec<_> = def
        .columns
        .iter()
        .map(|col| record.get(c, col).unwrap_or(&basalt_core::Value::Null))
        .collect();
    let mut key = index_key(&values);
    if !def.unique {
        key.extend_from_slice(record.id().as_bytes());
    }
    Some(key)
}

pub(crate) fn unique_error(def: &IndexDef) -> Error {
    let mut data = BTreeMap::new();
    for col in &def.columns {
        data.insert(
            col.clone(),
            FieldError::new("validation_not_unique", "Value must be unique."),
        );
    }
    Error::validation("Failed to save record.", data)
}

fn encode_change(collection_id: &str, record_id: &str, action: Action) -> Vec<u8> {
    let mut v = Vec::with_capacity(collection_id.len() + record_id.len() + 2);
    v.push(action_byte(action));
    v.push(u8::try_from(collection_id.len()).unwrap_or(u8::MAX));
    v.extend_from_slice(collection_id.as_bytes());
    v.extend_from_slice(record_id.as_bytes());
    v
}

pub(crate) fn decode_change(seq: Seq, v: &[u8]) -> Result<Change> {
    let bad = || Error::internal("corrupt change-log entry");
    let action = match v.first() {
        Some(1) => Action::Create,
        Some(2) => Action::Update,
        Some(3) => Action::Delete,
        _ => return Err(bad()),
    };
    let len = *v.get(1).ok_or_else(bad)? as usize;
    let cid = v.get(2..2 + len).ok_or_else(bad)?;
    let rid = v.get(2 + len..).ok_or_else(bad)?;
    Ok(Change {
        seq,
        collection_id: String::from_utf8(cid.to_vec()).map_err(|_| bad())?,
        record_id: String::from_utf8(rid.to_vec()).map_err(|_| bad())?,
        action,
    })
}

/// Where each write's trees sit in the transaction's tree list.
struct Slots {
    records: usize,
    order: usize,
    indexes: Vec<(IndexDef, usize)>,
}

pub(crate) fn commit(store: &SledStore, writes: Vec<Write>) -> Result<Seq> {
    let mut trees: Vec<sled::Tree> = vec![store.changes.clone()];
    let mut slots = Vec::with_capacity(writes.len());
    for w in &writes {
        let c = collection_of(w);
        let t = store.trees(c)?;
        let mut add = |tree: &sled::Tree| {
            let pos = trees
                .iter()
                .position(|x| x.name() == tree.name())
                .unwrap_or(trees.len());
            if pos == trees.len() {
                trees.push(tree.clone());
            }
            pos
        };
        slots.push(Slots {
            records: add(&t.records),
            order: add(&t.order),
            indexes: t
                .indexes
                .iter()
                .map(|(d, tree)| (d.clone(), add(tree)))
                .collect(),
        });
    }
    let result = trees.as_slice().transaction(|tx| {
        let mut last = 0;
        for (w, s) in writes.iter().zip(&slots) {
            let seq = tx[0].generate_id()?;
            last = seq;
            apply(tx, w, s, seq)?;
        }
        Ok(last)
    });
    match result {
        Ok(seq) => Ok(seq),
        Err(TransactionError::Abort(Abort::Exists)) => Err(Error::validation(
            "Failed to create record.",
            [(
                "id".to_owned(),
                FieldError::new("validation_not_unique", "Value must be unique."),
            )]
            .into(),
        )),
        Err(TransactionError::Abort(Abort::Unique(def))) => Err(unique_error(&def)),
        Err(TransactionError::Abort(Abort::Conflict)) => Err(Error::new(
            Code::Conflict,
            "The record was changed concurrently.",
        )),
        Err(TransactionError::Abort(Abort::Internal(m))) => Err(Error::internal(m)),
        Err(TransactionError::Storage(e)) => Err(sled_err(e)),
    }
}

fn collection_of(w: &Write) -> &Collection {
    match w {
        Write::Create { collection, .. }
        | Write::Update { collection, .. }
        | Write::Delete { collection, .. } => collection,
    }
}

fn abort<T>(a: Abort) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(a))
}

/// The stored bytes must still be `old`'s, else someone else changed the record.
fn check_current(tx: &TransactionalTree, c: &Collection, old: &Record) -> TxResult<u64> {
    let Some(current) = tx.get(old.id().as_bytes())? else {
        return abort(Abort::Conflict);
    };
    let (order, body) = current.split_at(8.min(current.len()));
    if body != old.encode(c).as_slice() {
        return abort(Abort::Conflict);
    }
    Ok(u64::from_be_bytes(order.try_into().unwrap_or([0; 8])))
}

fn remove_index_entries(
    tx: &[TransactionalTree],
    c: &Collection,
    s: &Slots,
    r: &Record,
) -> TxResult<()> {
    for (def, i) in &s.indexes {
        if let Some(key) = index_entry(c, def, r) {
            if def.unique {
                if tx[*i]
                    .get(&key)?
                    .is_some_and(|v| v.as_ref() == r.id().as_bytes())
                {
                    tx[*i].remove(key)?;
                }
            } else {
                tx[*i].remove(key)?;
            }
        }
    }
    Ok(())
}

fn add_index_entries(
    tx: &[TransactionalTree],
    c: &Collection,
    s: &Slots,
    r: &Record,
) -> TxResult<()> {
    for (def, i) in &s.indexes {
        let Some(key) = index_entry(c, def, r) else {
            continue;
        };
        if def.unique {
            if let Some(other) = tx[*i].get(&key)? {
                if other.as_ref() != r.id().as_bytes() {
                    return abort(Abort::Unique(def.clone()));
                }
            }
            tx[*i].insert(key, r.id().as_bytes())?;
        } else {
            tx[*i].insert(key, &[])?;
        }
    }
    Ok(())
}

fn order_key(order: u64, id: &str) -> Vec<u8> {
    let mut k = order.to_be_bytes().to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}

fn apply(tx: &[TransactionalTree], w: &Write, s: &Slots, seq: Seq) -> TxResult<()> {
    let records = &tx[s.records];
    let (c, id, action) = match w {
        Write::Create { collection, record } => {
            let id = record.id();
            if id.is_empty() {
                return abort(Abort::Internal("record without id".into()));
            }
            if records.get(id.as_bytes())?.is_some() {
                return abort(Abort::Exists);
            }
            add_index_entries(tx, collection, s, record)?;
            let mut value = seq.to_be_bytes().to_vec();
            value.extend_from_slice(&record.encode(collection));
            records.insert(id.as_bytes(), value)?;
            tx[s.order].insert(order_key(seq, id), &[])?;
            (collection, id, Action::Create)
        }
        Write::Update {
            collection,
            old,
            new,
        } => {
            let order = check_current(records, collection, old)?;
            if old.id() != new.id() {
                return abort(Abort::Internal("an update cannot change the id".into()));
            }
            remove_index_entries(tx, collection, s, old)?;
            add_index_entries(tx, collection, s, new)?;
            let mut value = order.to_be_bytes().to_vec();
            value.extend_from_slice(&new.encode(collection));
            records.insert(new.id().as_bytes(), value)?;
            (collection, new.id(), Action::Update)
        }
        Write::Delete { collection, old } => {
            let order = check_current(records, collection, old)?;
            remove_index_entries(tx, collection, s, old)?;
            records.remove(old.id().as_bytes())?;
            tx[s.order].remove(order_key(order, old.id()))?;
            (collection, old.id(), Action::Delete)
        }
    };
    tx[0].insert(&seq.to_be_bytes(), encode_change(&c.id, id, action))?;
    Ok(())
}
