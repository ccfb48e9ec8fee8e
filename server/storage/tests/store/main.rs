//! Integration tests of the storage crate: the conformance suite against both stores,
//! durability of the sled store, and a kill -9 crash test.

mod conformance;
mod crash;
mod durability;
mod snapshot;
mod upgrade;

use std::path::Path;
use std::time::{Duration, Instant};

use basalt_storage::{SledOptions, SledStore, StorageError};

/// A sled store in a fresh directory that is removed when the store is dropped.
pub fn temp_sled() -> SledStore {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    SledStore::open_temporary(&dir, SledOptions::default()).expect("open sled")
}

/// Retries `open` while the directory's lock is still held: sled releases it through
/// deferred (epoch-based) cleanup, so a reopen right after a drop can briefly fail.
pub fn retry_locked<T, E: std::fmt::Display>(
    mut open: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let started = Instant::now();
    loop {
        match open() {
            Err(e)
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < Duration::from_secs(10) =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Opens the sled store in `dir`, waiting out a lock a dropped store still holds.
pub fn open_sled(dir: &Path) -> Result<SledStore, StorageError> {
    retry_locked(|| SledStore::open(dir, SledOptions::default()))
}

/// Opens `dir` with sled directly, to tamper with it.
pub fn open_raw(dir: &Path) -> sled::Db {
    retry_locked(|| sled::open(dir)).expect("raw sled open")
}
