//! Backups: the port the binary implements (archives of the data directory) and the
//! rules the API applies before calling it (names, PocketBase's shapes).

use std::path::PathBuf;

use serde::Serialize;

use crate::{Code, Error, Result};

/// One backup archive, as `GET /api/backups` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackupInfo {
    pub key: String,
    pub size: u64,
    /// `2006-01-02 15:04:05.000Z`, like every PocketBase date.
    pub modified: String,
}

/// Backups of the data directory. Every method blocks: callers use the blocking pool.
pub trait Backups: Send + Sync + 'static {
    /// Every archive, newest first.
    fn list(&self) -> Result<Vec<BackupInfo>>;
    /// Takes a consistent backup under `name` (a generated one when `None`).
    fn create(&self, name: Option<&str>) -> Result<BackupInfo>;
    /// Deletes one archive.
    fn delete(&self, key: &str) -> Result<()>;
    /// Where an archive is, for downloading.
    fn path(&self, key: &str) -> Result<PathBuf>;
    /// Stores an uploaded archive under `key` after checking that it is a backup.
    fn upload(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// Verifies the archive completely, then replaces the data with it: the server
    /// restarts on the restored data once the current requests finish.
    fn restore(&self, key: &str) -> Result<()>;
}

/// The longest backup name.
pub const MAX_NAME: usize = 150;

/// PocketBase's rule for backup names: `[a-z0-9_-]+\.zip`, at most 150 characters
/// (automatic backups start with `@auto`).
pub fn check_name(name: &str) -> Result<()> {
    let stem = name.strip_suffix(".zip").unwrap_or_default();
    let stem = stem.strip_prefix('@').unwrap_or(stem);
    let valid = !stem.is_empty()
        && name.len() <= MAX_NAME
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        return Ok(());
    }
    Err(Error::invalid_field(
        "An error occurred while validating the submitted data.",
        "name",
        "validation_match_invalid",
        "Must be in the format [a-z0-9_-].zip and at most 150 characters.",
    ))
}

/// The error of a second backup or restore while one runs.
pub fn busy() -> Error {
    Error::new(
        Code::BadRequest,
        "Try again later - another backup/restore operation has already been started.",
    )
}

/// The error of an archive that does not exist.
pub fn not_found() -> Error {
    Error::new(Code::NotFound, "The requested backup doesn't exist.")
}
