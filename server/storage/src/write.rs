//! What every engine checks first about a write, in one place.

use std::sync::Arc;

use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::store::{Action, Write};

use crate::error::{StorageError, WriteKind};

/// A write taken apart: the writer's collection definition, the records before and
/// after, the action, and the record id (checked present and unchanged).
pub(crate) struct Parts<'a> {
    pub writer: &'a Arc<Collection>,
    pub old: Option<&'a Record>,
    pub new: Option<&'a Record>,
    pub action: Action,
    pub id: String,
}

pub(crate) fn parts(write: &Write) -> Result<Parts<'_>, StorageError> {
    let (writer, old, new, action) = match write {
        Write::Create { collection, record } => (collection, None, Some(record), Action::Create),
        Write::Update {
            collection,
            old,
            new,
        } => (collection, Some(old), Some(new), Action::Update),
        Write::Delete { collection, old } => (collection, Some(old), None, Action::Delete),
    };
    let id = old.or(new).map(|r| r.id().to_owned()).unwrap_or_default();
    if id.is_empty() {
        return Err(StorageError::MissingId);
    }
    if let (Some(o), Some(n)) = (old, new) {
        if o.id() != n.id() {
            return Err(StorageError::IdChanged {
                old: o.id().to_owned(),
                new: n.id().to_owned(),
            });
        }
    }
    Ok(Parts {
        writer,
        old,
        new,
        action,
        id,
    })
}

/// The error for a write that would give `index` a second record with the same key.
pub(crate) fn not_unique(index: &str, columns: &[String], action: Action) -> StorageError {
    let kind = if action == Action::Create {
        WriteKind::Create
    } else {
        WriteKind::Update
    };
    StorageError::NotUnique {
        index: index.to_owned(),
        columns: columns.to_vec(),
        kind,
    }
}
