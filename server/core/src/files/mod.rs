//! Files of `file` fields: the [`FileStore`] port the blob backends implement (a local
//! directory, S3-compatible object storage), the key layout, stored-name generation,
//! content-type detection and thumbnail sizes.
//!
//! Keys are `<collectionId>/<recordId>/<filename>`; a thumbnail of that file lives at
//! `<collectionId>/<recordId>/thumbs_<filename>/<size>_<filename>` (PocketBase's
//! layout). Every segment passes [`safe_segment`], so no name can leave its prefix.

mod detect;
mod names;
mod thumbs;

pub use detect::{detect_mime, is_inline_type, mime_matches};
pub use names::{safe_segment, stored_name};
pub use thumbs::{Thumb, ThumbMode};

use std::sync::Arc;

use crate::settings::S3;
use crate::Result;

/// A byte range `start..=end` of a blob (`end` clamped to its size by the backend).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// Inclusive; `None` = to the end.
    pub end: Option<u64>,
}

/// Some or all bytes of a blob, and its total size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// The size of the whole blob, whatever range was read.
    pub size: u64,
    /// Last modification, seconds since the epoch, when the backend knows it.
    pub modified: Option<i64>,
}

/// Blob storage for uploaded files. Methods block; async callers use
/// `spawn_blocking`, as with [`crate::store::RecordStore`]. Keys are
/// `/`-separated relative paths whose segments passed [`safe_segment`]; a backend
/// must still refuse anything else (`..`, absolute paths, backslashes).
pub trait FileStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing what was there; durable on return.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;

    /// The blob under `key` (or the part in `range`), `None` when absent.
    fn get(&self, key: &str, range: Option<ByteRange>) -> Result<Option<Blob>>;

    /// Whether `key` holds a blob.
    fn exists(&self, key: &str) -> Result<bool>;

    /// Removes the blob under `key`; absent is fine.
    fn delete(&self, key: &str) -> Result<()>;

    /// Every key under `prefix` (a directory-like prefix ending with `/`).
    fn list(&self, prefix: &str) -> Result<Vec<String>>;

    /// Stores the file at `path` under `key`, like [`FileStore::put`]; backends that
    /// can stream (S3 multipart uploads) do, so a large archive never sits in memory.
    fn put_file(&self, key: &str, path: &std::path::Path) -> Result<()> {
        let bytes = std::fs::read(path)
            .map_err(|e| crate::Error::internal(format!("reading {}: {e}", path.display())))?;
        self.put(key, &bytes)
    }

    /// Removes every blob under `prefix`.
    fn delete_prefix(&self, prefix: &str) -> Result<()> {
        for key in self.list(prefix)? {
            self.delete(&key)?;
        }
        Ok(())
    }
}

/// Opens the file store the app settings select: S3-compatible storage when
/// `s3.enabled`, else the local default. Called again whenever the `s3` block changes.
pub trait FileStoreOpener: Send + Sync + 'static {
    fn open(&self, s3: &S3) -> Result<Arc<dyn FileStore>>;
}

/// One uploaded file as the api crate hands it over: the body key it came under
/// (`documents`, `documents+`, `+documents`), the client's file name and the bytes.
#[derive(Clone, Debug, Default)]
pub struct Upload {
    pub key: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The directory-like prefix of one record's files.
pub fn record_prefix(collection_id: &str, record_id: &str) -> String {
    format!("{collection_id}/{record_id}/")
}

/// The key of a record's file.
pub fn file_key(collection_id: &str, record_id: &str, filename: &str) -> String {
    format!("{collection_id}/{record_id}/{filename}")
}

/// The key of a cached thumbnail of a record's file.
pub fn thumb_key(collection_id: &str, record_id: &str, filename: &str, size: &str) -> String {
    format!("{collection_id}/{record_id}/thumbs_{filename}/{size}_{filename}")
}

/// Whether a key is made of safe segments only.
pub fn safe_key(key: &str) -> bool {
    !key.is_empty() && key.split('/').all(safe_segment)
}
