//! The request-log store: its own sled database (`<data dir>/logs`), apart from the
//! record store, so that logs never enter the change log (realtime, search), backups
//! or the record store's group commit, and a burst of logging never competes with
//! record writes for the same log-structured file.
//!
//! Keys are `created ++ 0x00 ++ id` (the date format sorts as time), so the newest
//! entries come first from a reverse scan and retention is one range delete; a second
//! tree maps id → key for `GET /api/logs/{id}`.

use std::path::Path;

use ::sled::{Batch, Db, Tree};
use basalt_core::logs::{LogEntry, LogStore};
use basalt_core::{Error, Result};

use crate::error::StorageError;

/// The log store's sled cache: logs are read rarely.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// Logs are not acknowledged to anyone: a second of loss on a crash is fine.
const FLUSH_EVERY_MS: u64 = 1000;

pub struct SledLogStore {
    db: Db,
    entries: Tree,
    ids: Tree,
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("log store: {e}"))
}

fn key(e: &LogEntry) -> Vec<u8> {
    let mut k = Vec::with_capacity(e.created.len() + 1 + e.id.len());
    k.extend_from_slice(e.created.as_bytes());
    k.push(0);
    k.extend_from_slice(e.id.as_bytes());
    k
}

impl SledLogStore {
    /// Opens (or creates) the log store in `dir`.
    pub fn open(dir: &Path) -> Result<SledLogStore, StorageError> {
        let db = ::sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(Some(FLUSH_EVERY_MS))
            .open()?;
        let entries = db.open_tree("entries")?;
        let ids = db.open_tree("ids")?;
        Ok(SledLogStore { db, entries, ids })
    }

    /// Flushes what was appended.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().map(drop).map_err(internal)
    }
}

impl LogStore for SledLogStore {
    fn append(&self, entries: &[LogEntry]) -> Result<()> {
        let (mut main, mut ids) = (Batch::default(), Batch::default());
        for e in entries {
            let k = key(e);
            let v = serde_json::to_vec(e).map_err(internal)?;
            ids.insert(e.id.as_bytes(), k.as_slice());
            main.insert(k, v);
        }
        self.entries.apply_batch(main).map_err(internal)?;
        self.ids.apply_batch(ids).map_err(internal)
    }

    fn scan(&self, visit: &mut dyn FnMut(LogEntry) -> bool) -> Result<()> {
        for kv in self.entries.iter().rev() {
            let (_, v) = kv.map_err(internal)?;
            let Ok(e) = serde_json::from_slice::<LogEntry>(&v) else {
                continue;
            };
            if !visit(e) {
                break;
            }
        }
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<LogEntry>> {
        let Some(k) = self.ids.get(id.as_bytes()).map_err(internal)? else {
            return Ok(None);
        };
        let Some(v) = self.entries.get(k).map_err(internal)? else {
            return Ok(None);
        };
        serde_json::from_slice(&v).map(Some).map_err(internal)
    }

    fn purge_before(&self, created: &str) -> Result<usize> {
        let mut n = 0;
        let (mut main, mut ids) = (Batch::default(), Batch::default());
        for kv in self.entries.range(..created.as_bytes()) {
            let (k, _) = kv.map_err(internal)?;
            if let Some(at) = k.iter().position(|b| *b == 0) {
                ids.remove(&k[at + 1..]);
            }
            main.remove(k);
            n += 1;
        }
        self.entries.apply_batch(main).map_err(internal)?;
        self.ids.apply_batch(ids).map_err(internal)?;
        Ok(n)
    }

    fn size_on_disk(&self) -> Option<u64> {
        self.db.size_on_disk().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, created: &str) -> LogEntry {
        LogEntry {
            id: id.into(),
            created: created.into(),
            updated: created.into(),
            level: 0,
            message: "GET /".into(),
            data: serde_json::json!({}),
        }
    }

    #[test]
    fn append_scan_get_purge() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledLogStore::open(&dir.path().join("logs")).unwrap();
        s.append(&[
            entry("a", "2026-01-01 10:00:00.000Z"),
            entry("b", "2026-01-02 10:00:00.000Z"),
        ])
        .unwrap();
        let mut seen = Vec::new();
        s.scan(&mut |e| {
            seen.push(e.id);
            true
        })
        .unwrap();
        assert_eq!(seen, ["b", "a"]);
        assert_eq!(s.get("a").unwrap().unwrap().id, "a");
        assert_eq!(s.purge_before("2026-01-02 00:00:00.000Z").unwrap(), 1);
        assert!(s.get("a").unwrap().is_none());
        assert!(s.get("b").unwrap().is_some());
    }
}
