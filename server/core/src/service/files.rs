//! Files of `file` fields: staging uploads into a write, blob lifetimes tied to
//! durable commits, file tokens, and resolving what a file request may read.
//!
//! Integrity, in order: uploads are validated (size, detected type, field) before
//! anything is stored; blobs are written only once the record validated, and removed
//! again when the commit fails; blobs a write made obsolete (replaced or removed
//! files, deleted records, cascades included) are removed only after the commit is
//! durable (see [`Pending`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Action, Pending, Principal, Services};
use crate::auth::{self, Claims};
use crate::error::{FieldError, FieldErrors};
use crate::files::{self, FileStore, FileStoreOpener, Thumb, Upload};
use crate::filter::RequestInfo;
use crate::record::shape;
use crate::record::Record;
use crate::schema::field::FieldKind;
use crate::schema::Collection;
use crate::store::Write;
use crate::value::Value;
use crate::{Code, Error, Result};

/// A file field without `maxSize` accepts files up to this many bytes (PocketBase's
/// default).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 << 20;
/// File tokens of collections without `fileToken.duration` live this many seconds.
const DEFAULT_FILE_TOKEN_SECS: i64 = 180;

/// Uploads validated and named, not yet stored.
#[derive(Debug, Default)]
pub struct Staged {
    /// Stored name → bytes.
    files: BTreeMap<String, Vec<u8>>,
    names: Vec<String>,
}

impl Staged {
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Blobs written for one write that is not committed yet. Dropping it without
/// [`Services::keep_blobs`] is a leak the next [`Services::discard_blobs`] would
/// have prevented, so callers always end with one of the two.
#[derive(Debug, Default)]
pub(super) struct Written {
    keys: Vec<String>,
}

/// What a file request resolved to: which blob, under which name.
#[derive(Clone, Debug)]
pub struct FileTarget {
    /// The original file's key.
    pub key: String,
    /// The file name (also the download name).
    pub filename: String,
    /// A listed thumbnail size of an image, and the key its cached blob lives at.
    pub thumb: Option<(Thumb, String)>,
    /// Whether the field is `protected` (responses must not be cached publicly).
    pub protected: bool,
}

/// The file fields of a collection, by position.
fn file_fields(collection: &Collection) -> impl Iterator<Item = (usize, &crate::schema::Field)> {
    collection
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.kind, FieldKind::File(_)))
}

/// Every file name `record` holds.
fn file_names(collection: &Collection, record: &Record) -> Vec<String> {
    file_fields(collection)
        .filter_map(|(pos, _)| record.values.get(pos))
        .flat_map(shape::items)
        .collect()
}

/// Storage keys (files and their thumbnail directories) that `writes` make obsolete:
/// every file of a deleted record, and the files an update dropped.
pub(super) fn obsolete_keys(writes: &[Write]) -> Vec<String> {
    let mut out = Vec::new();
    for write in writes {
        match write {
            Write::Create { .. } => {}
            Write::Delete { collection, old } => {
                if file_fields(collection).next().is_some() {
                    out.push(files::record_prefix(&collection.id, old.id()));
                }
            }
            Write::Update {
                collection,
                old,
                new,
            } => {
                let kept = file_names(collection, new);
                for name in file_names(collection, old) {
                    if !kept.contains(&name) {
                        out.push(files::file_key(&collection.id, old.id(), &name));
                        out.push(format!(
                            "{}thumbs_{name}/",
                            files::record_prefix(&collection.id, old.id())
                        ));
                    }
                }
            }
        }
    }
    out.retain(|k| {
        k.split('/')
            .filter(|s| !s.is_empty())
            .all(files::safe_segment)
    });
    out
}

impl Services {
    /// Wires the file storage: `opener` is asked for the backend the current settings
    /// select, and again whenever the settings' `s3` block changes.
    pub fn attach_files(&mut self, opener: Arc<dyn FileStoreOpener>) -> Result<()> {
        let store = opener.open(&self.settings().s3)?;
        *self.files.write() = Some(store);
        self.file_opener = Some(opener);
        Ok(())
    }

    /// Switches to another file store (the settings' `s3` block changed). Files stay
    /// where they were written: switching moves nothing.
    pub(super) fn set_files(&self, store: Arc<dyn FileStore>) {
        *self.files.write() = Some(store);
    }

    /// The file store in use.
    pub fn files(&self) -> Result<Arc<dyn FileStore>> {
        self.files
            .read()
            .clone()
            .ok_or_else(|| Error::new(Code::Unavailable, "File storage is not configured."))
    }

    /// Checks `uploads` against the collection's file fields — the key names a file
    /// field (with `+`/`-` modifiers), each file is within `maxSize` and its detected
    /// type is in `mimeTypes` — and gives each a stored name, merged into `body` under
    /// its key after the key's plain values (PocketBase's multipart semantics).
    pub fn stage_uploads(
        &self,
        collection: &Collection,
        body: &mut Map<String, Json>,
        uploads: Vec<Upload>,
        creating: bool,
    ) -> Result<Staged> {
        let mut staged = Staged::default();
        let mut errs = FieldErrors::default();
        for upload in uploads {
            let name = upload
                .key
                .trim_start_matches('+')
                .trim_end_matches(['+', '-']);
            let field = collection.fields.iter().find(|f| f.name == name);
            let Some(FieldKind::File(o)) = field.map(|f| &f.kind) else {
                errs.push(
                    upload.key.clone(),
                    FieldError::new(
                        "validation_unknown_file_field",
                        "The collection has no file field of this name.",
                    ),
                );
                continue;
            };
            let max = if o.max_size == 0 {
                DEFAULT_MAX_FILE_SIZE
            } else {
                o.max_size
            };
            if upload.bytes.len() as u64 > max {
                errs.push(
                    name,
                    FieldError::new(
                        "validation_file_size_limit",
                        format!(
                            "Failed to upload {} - the maximum allowed file size is {max} bytes.",
                            upload.filename
                        ),
                    )
                    .param("file", upload.filename.clone())
                    .param("maxSize", max),
                );
                continue;
            }
            if !o.mime_types.is_empty() {
                let detected = files::detect_mime(&upload.bytes);
                if !o
                    .mime_types
                    .iter()
                    .any(|m| files::mime_matches(&detected, m))
                {
                    errs.push(
                        name,
                        FieldError::new(
                            "validation_invalid_mime_type",
                            format!(
                                "{:?} mime type must be one of: {}.",
                                upload.filename,
                                o.mime_types.join(", ")
                            ),
                        ),
                    );
                    continue;
                }
            }
            let stored = files::stored_name(&upload.filename);
            append_name(body, &upload.key, stored.clone());
            staged.names.push(stored.clone());
            staged.files.insert(stored, upload.bytes);
        }
        let message = if creating {
            "Failed to create record."
        } else {
            "Failed to update record."
        };
        errs.into_result(message)?;
        Ok(staged)
    }

    /// Stores the staged files that `record` references (a file named and then
    /// removed in the same body is never stored), skipping those already written.
    pub(super) fn write_blobs(
        &self,
        collection: &Collection,
        record: &Record,
        staged: &Staged,
        written: &mut Written,
    ) -> Result<()> {
        if staged.is_empty() {
            return Ok(());
        }
        let store = self.files()?;
        for name in file_names(collection, record) {
            let Some(bytes) = staged.files.get(&name) else {
                continue;
            };
            let key = files::file_key(&collection.id, record.id(), &name);
            if written.keys.contains(&key) {
                continue;
            }
            if !files::safe_key(&key) {
                return Err(Error::bad_request("Invalid file path."));
            }
            store.put(&key, bytes)?;
            written.keys.push(key);
        }
        Ok(())
    }

    /// Removes blobs of a write that failed.
    pub(super) fn discard_blobs(&self, written: Written) {
        if written.keys.is_empty() {
            return;
        }
        let Ok(store) = self.files() else {
            return;
        };
        for key in written.keys {
            if let Err(e) = store.delete(&key) {
                tracing::warn!(%key, error = %e.message, "removing an uploaded file of a failed write");
            }
        }
    }

    /// Removes blobs written for a committed record that it does not reference (a
    /// retried update may have named others).
    pub(super) fn keep_blobs(&self, collection: &Collection, record: &Record, written: Written) {
        let names = file_names(collection, record);
        let stray = Written {
            keys: written
                .keys
                .into_iter()
                .filter(|k| !names.iter().any(|n| k.ends_with(&format!("/{n}"))))
                .collect(),
        };
        self.discard_blobs(stray);
    }

    /// What removes the blobs a write made obsolete, to run once it is durable; off
    /// the caller's thread, as a remote store may be slow and nothing waits for it.
    pub(super) fn obsolete_cleanup(&self, pending: &Pending) -> Option<Box<dyn FnOnce() + Send>> {
        if pending.obsolete.is_empty() {
            return None;
        }
        let store = self.files().ok()?;
        let keys = pending.obsolete.clone();
        Some(Box::new(move || {
            std::thread::spawn(move || remove_keys(&*store, &keys));
        }))
    }

    /// Removes every file of a collection (after the collection itself is gone).
    pub(super) fn remove_collection_files(&self, collection_id: &str) {
        let Ok(store) = self.files() else {
            return;
        };
        if !files::safe_segment(collection_id) {
            return;
        }
        let prefix = format!("{collection_id}/");
        std::thread::spawn(move || {
            if let Err(e) = store.delete_prefix(&prefix) {
                tracing::warn!(%prefix, error = %e.message, "removing a deleted collection's files");
            }
        });
    }

    /// The files of file fields that `new` drops from `old` (removed, or no longer of
    /// type file), to remove once the new definition is durable. Renames keep files:
    /// fields are matched by id and keys hold no field names.
    pub(super) fn dropped_field_files(
        &self,
        old: &Collection,
        new: &Collection,
    ) -> Result<Vec<String>> {
        let dropped: Vec<usize> = file_fields(old)
            .filter(|(_, f)| {
                !new.fields
                    .iter()
                    .any(|n| n.id == f.id && matches!(n.kind, FieldKind::File(_)))
            })
            .map(|(pos, _)| pos)
            .collect();
        if dropped.is_empty() || self.files.read().is_none() {
            return Ok(Vec::new());
        }
        let mut keys = Vec::new();
        self.store.scan(old, &mut |record| {
            for pos in &dropped {
                for name in record
                    .values
                    .get(*pos)
                    .map(shape::items)
                    .unwrap_or_default()
                {
                    keys.push(files::file_key(&old.id, record.id(), &name));
                    keys.push(format!(
                        "{}thumbs_{name}/",
                        files::record_prefix(&old.id, record.id())
                    ));
                }
            }
            true
        })?;
        keys.retain(|k| {
            k.split('/')
                .filter(|s| !s.is_empty())
                .all(files::safe_segment)
        });
        Ok(keys)
    }

    /// Removes `keys` in the background (after the change that obsoleted them is durable).
    pub(super) fn remove_files_later(&self, keys: Vec<String>) {
        if keys.is_empty() {
            return;
        }
        let Ok(store) = self.files() else {
            return;
        };
        std::thread::spawn(move || remove_keys(&*store, &keys));
    }

    /// `POST /api/files/token`: a short-lived token that opens protected files for
    /// the authenticated caller.
    pub fn issue_file_token(&self, who: &Principal) -> Result<String> {
        let Some((collection, record)) = who.auth() else {
            return Err(Error::from_code(Code::Unauthenticated));
        };
        let ttl = collection
            .auth_options
            .file_token
            .as_ref()
            .and_then(|t| t.duration)
            .filter(|d| *d > 0)
            .unwrap_or(DEFAULT_FILE_TOKEN_SECS);
        let mut claims = Claims::auth(record.id(), &collection.id, ttl);
        claims.kind = "file".to_owned();
        claims.refreshable = false;
        let key = record
            .get(collection, "tokenKey")
            .and_then(Value::as_str)
            .unwrap_or_default();
        auth::sign(&claims, &self.secret, key)
    }

    /// Which blob `GET /api/files/{collection}/{record}/{filename}` serves. The file
    /// must be one of the record's file values (so no name reaches storage unchecked);
    /// a protected field's files need a file `token` of a caller that passes the view
    /// decision (rule and policies) on the record. Anything else is a 404.
    pub fn resolve_file(
        &self,
        collection: &str,
        record_id: &str,
        filename: &str,
        thumb: &str,
        token: &str,
    ) -> Result<FileTarget> {
        let not_found = || Error::from_code(Code::NotFound);
        if ![collection, record_id, filename]
            .iter()
            .all(|s| files::safe_segment(s))
        {
            return Err(not_found());
        }
        let collection = self.collection(collection).map_err(|_| not_found())?;
        let record = self
            .store
            .get(&collection, record_id)?
            .ok_or_else(not_found)?;
        let (_, field) = file_fields(&collection)
            .find(|(pos, _)| {
                record
                    .values
                    .get(*pos)
                    .is_some_and(|v| v.strings().contains(&filename))
            })
            .ok_or_else(not_found)?;
        let FieldKind::File(options) = &field.kind else {
            return Err(not_found());
        };
        if options.protected {
            let who = self.principal_from_file_token(token);
            let permit = self
                .authorize(&who, &collection, Action::View, RequestInfo::default())
                .map_err(|_| not_found())?;
            if !permit.allows(&record, self.store())? {
                return Err(not_found());
            }
        }
        let thumb = (!thumb.is_empty())
            .then(|| Thumb::allowed(thumb, &options.thumbs))
            .flatten()
            .map(|t| {
                let size = thumb.to_owned();
                (
                    t,
                    files::thumb_key(&collection.id, record.id(), filename, &size),
                )
            });
        Ok(FileTarget {
            key: files::file_key(&collection.id, record.id(), filename),
            filename: filename.to_owned(),
            thumb,
            protected: options.protected,
        })
    }
}

fn remove_keys(store: &dyn FileStore, keys: &[String]) {
    for key in keys {
        let result = if key.ends_with('/') {
            store.delete_prefix(key)
        } else {
            store.delete(key)
        };
        if let Err(e) = result {
            tracing::warn!(%key, error = %e.message, "removing an obsolete file");
        }
    }
}

/// Adds `name` to `body[key]`, after what the key already holds.
fn append_name(body: &mut Map<String, Json>, key: &str, name: String) {
    let entry = body.entry(key.to_owned()).or_insert(Json::Null);
    let mut items = match std::mem::take(entry) {
        Json::Null => Vec::new(),
        Json::Array(items) => items,
        Json::String(s) if s.is_empty() => Vec::new(),
        other => vec![other],
    };
    items.push(Json::String(name));
    *entry = Json::Array(items);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uploaded_names_follow_plain_values_of_their_key() {
        let mut body = json!({"docs": "old.txt", "docs+": ""})
            .as_object()
            .unwrap()
            .clone();
        append_name(&mut body, "docs", "new.txt".into());
        append_name(&mut body, "docs+", "more.txt".into());
        append_name(&mut body, "other", "x.txt".into());
        assert_eq!(body["docs"], json!(["old.txt", "new.txt"]));
        assert_eq!(body["docs+"], json!(["more.txt"]));
        assert_eq!(body["other"], json!(["x.txt"]));
    }
}
