//! The storage error type and its one mapping onto basalt-core's error codes.

use std::collections::BTreeMap;
use std::fmt;

use basalt_core::{Code, Error, FieldError};

/// Which kind of write hit a unique index, for the client-facing message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
}

/// Why a storage operation failed.
///
/// Converted into a [`basalt_core::Error`] by an explicit, exhaustive match: engine,
/// corruption and flush failures are logged there and reach clients as a generic
/// internal error; the rest become the stable codes the API promises.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The embedded engine failed (IO, or corruption it detected).
    #[error("storage engine failure: {0}")]
    Engine(EngineError),
    /// The data directory was written by a newer Basalt.
    #[error("this data directory was written by a newer Basalt (store format {found}; this build reads formats up to {supported}): run that Basalt version or newer, or restore a backup made by this one")]
    NewerFormat { found: u32, supported: u32 },
    /// An older format this build has no upgrade for.
    #[error("the store has format {found}, which this build cannot upgrade to {supported}; upgrade through an intermediate Basalt release")]
    NoUpgradePath { found: u32, supported: u32 },
    /// A store dump that does not read back.
    #[error("store dump: {0}")]
    Dump(String),
    /// Stored bytes that do not decode, or a broken cross-tree invariant.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// A collection definition the store cannot lay out (an unvalidated definition).
    #[error("invalid collection definition: {0}")]
    InvalidDefinition(String),
    /// The collection of a write has no stored definition.
    #[error("collection {0} is not stored")]
    CollectionNotFound(String),
    /// A created record has an empty id.
    #[error("record without id")]
    MissingId,
    /// An update tried to change the record's id.
    #[error("record id {old} cannot change to {new}")]
    IdChanged { old: String, new: String },
    /// A created record's id is taken.
    #[error("record id {0} already exists")]
    IdExists(String),
    /// A write would break the unique index `index` over `columns`.
    #[error("unique index {index} violated")]
    NotUnique {
        index: String,
        columns: Vec<String>,
        kind: WriteKind,
    },
    /// Existing records break a unique index a collection change adds.
    #[error("existing records violate the new unique index {index}")]
    IndexNotUnique { index: String, creating: bool },
    /// The stored record is no longer the `old` the writer read.
    #[error("record {0} changed concurrently")]
    Conflict(String),
    /// Writing or syncing the write-ahead log failed, so the write is not acknowledged.
    #[error("write-ahead log: {0}")]
    Wal(#[source] std::io::Error),
    /// The engine's log file could not be opened to sync it.
    #[error("cannot open the store's log file: {0}")]
    LogFile(#[source] std::io::Error),
    /// An error of the filter or sort evaluation, passed through unchanged.
    #[error("{0}")]
    Core(Error),
}

/// An engine error, kept opaque so that no caller needs to name sled.
#[derive(Clone)]
pub struct EngineError(pub(crate) ::sled::Error);

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for EngineError {}

impl From<::sled::Error> for StorageError {
    fn from(e: ::sled::Error) -> StorageError {
        StorageError::Engine(EngineError(e))
    }
}

const NOT_UNIQUE: &str = "validation_not_unique";
const NOT_UNIQUE_MESSAGE: &str = "Value must be unique.";

fn not_unique() -> FieldError {
    FieldError::new(NOT_UNIQUE, NOT_UNIQUE_MESSAGE)
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Error {
        match e {
            StorageError::Engine(_)
            | StorageError::NewerFormat { .. }
            | StorageError::NoUpgradePath { .. }
            | StorageError::Dump(_)
            | StorageError::Corrupt(_)
            | StorageError::InvalidDefinition(_)
            | StorageError::Wal(_)
            | StorageError::LogFile(_) => Error::internal(e),
            StorageError::CollectionNotFound(_) => Error::from_code(Code::CollectionNotFound),
            StorageError::MissingId => Error::validation(
                "Failed to create record.",
                BTreeMap::from([(
                    "id".to_owned(),
                    FieldError::new("validation_required", "Cannot be blank."),
                )]),
            ),
            StorageError::IdChanged { .. } => {
                Error::bad_request("The record id cannot be changed.")
            }
            StorageError::IdExists(_) => Error::validation(
                "Failed to create record.",
                BTreeMap::from([("id".to_owned(), not_unique())]),
            ),
            StorageError::NotUnique { columns, kind, .. } => {
                let message = match kind {
                    WriteKind::Create => "Failed to create record.",
                    WriteKind::Update => "Failed to update record.",
                };
                Error::validation(
                    message,
                    columns.into_iter().map(|c| (c, not_unique())).collect(),
                )
            }
            StorageError::IndexNotUnique { index, creating } => {
                let message = if creating {
                    "Failed to create collection."
                } else {
                    "Failed to update collection."
                };
                let detail = format!("Existing records are not unique for the index \"{index}\".");
                Error::validation(
                    message,
                    BTreeMap::from([("indexes".to_owned(), FieldError::new(NOT_UNIQUE, detail))]),
                )
            }
            StorageError::Conflict(_) => Error::from_code(Code::Conflict),
            StorageError::Core(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_every_column() {
        let e: Error = StorageError::NotUnique {
            index: "idx".into(),
            columns: vec!["a".into(), "b".into()],
            kind: WriteKind::Update,
        }
        .into();
        assert_eq!(e.code, Code::ValidationFailed);
        assert_eq!(e.message, "Failed to update record.");
        assert_eq!(e.data.len(), 2);
        assert_eq!(
            e.data["a"],
            FieldError::new("validation_not_unique", "Value must be unique.")
        );
    }

    #[test]
    fn internal_causes_stay_out_of_the_message() {
        let e: Error = StorageError::Corrupt("record r/abc at byte 3".into()).into();
        assert_eq!(e.code, Code::Internal);
        assert!(!e.message.contains("abc"));
        let e: Error = StorageError::Conflict("abc".into()).into();
        assert_eq!(e.code, Code::Conflict);
    }
}
