//! The request-log store: JSON lines in one file per UTC day under `<data dir>/logs`,
//! apart from the record store.
//!
//! Logs are best effort (nobody is told a log entry was written), so they stay out of
//! sled altogether: no second database whose flusher and sled's process-wide
//! transaction lock would compete with record commits, nothing in the change log
//! (realtime, search) and nothing in backups' store snapshot. Appends go to the OS
//! without fsync; a crash may tear the last line, which readers skip. Retention drops
//! whole days, so one range delete is one `remove_file`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use basalt_core::logs::{day_of, LogBatch, LogEntry, LogStore};
use basalt_core::{Error, Result};
use parking_lot::Mutex;

/// The extension of day files; their stem is the `YYYY-MM-DD` of the entries.
const EXT: &str = "jsonl";

pub struct FileLogStore {
    dir: PathBuf,
    /// Serialises appends and purges, so a purge never deletes a file mid-append;
    /// holds the day file appends go to, kept open between appends.
    write: Mutex<Option<DayFile>>,
}

/// An open day file, ready for appends.
struct DayFile {
    day: String,
    file: File,
}

impl DayFile {
    /// Opens `day`'s file for appending; when a crash tore its last line, the next
    /// append starts on a fresh one.
    fn open(dir: &Path, day: &str) -> std::io::Result<DayFile> {
        let path = dir.join(format!("{day}.{EXT}"));
        let torn = !ends_with_newline(&path)?;
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        if torn {
            file.write_all(b"\n")?;
        }
        Ok(DayFile {
            day: day.to_owned(),
            file,
        })
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("log store: {e}"))
}

impl FileLogStore {
    /// Opens (or creates) the log store in `dir`.
    pub fn open(dir: &Path) -> std::io::Result<FileLogStore> {
        fs::create_dir_all(dir)?;
        Ok(FileLogStore {
            dir: dir.to_path_buf(),
            write: Mutex::new(None),
        })
    }

    /// The day files, newest first.
    fn days(&self) -> Result<Vec<(String, PathBuf)>> {
        let mut days = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(internal)? {
            let path = entry.map_err(internal)?.path();
            if path.extension().and_then(|e| e.to_str()) != Some(EXT) {
                continue;
            }
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                days.push((stem.to_owned(), path.clone()));
            }
        }
        days.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(days)
    }

    /// The entries of one day file, newest first; unreadable lines are skipped.
    fn read_day(path: &Path) -> Result<Vec<LogEntry>> {
        let file = match File::open(path) {
            Ok(f) => f,
            // Purged between listing and reading.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(internal(e)),
        };
        let mut entries = Vec::new();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(internal)?;
            if let Ok(e) = serde_json::from_str::<LogEntry>(&line) {
                entries.push(e);
            }
        }
        // Appended in time order, give or take concurrent requests: sort to be exact.
        entries.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        Ok(entries)
    }
}

/// Whether `path` is missing, empty or ends with a newline.
fn ends_with_newline(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e),
    };
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

impl LogStore for FileLogStore {
    fn append(&self, batch: &LogBatch) -> Result<()> {
        let mut open = self.write.lock();
        for (day, lines) in batch.days() {
            let mut day_file = match open.take() {
                Some(f) if f.day == day => f,
                _ => DayFile::open(&self.dir, day).map_err(internal)?,
            };
            // After a failed write the file is reopened (and its last line checked).
            day_file.file.write_all(lines).map_err(internal)?;
            *open = Some(day_file);
        }
        Ok(())
    }

    fn scan(&self, visit: &mut dyn FnMut(LogEntry) -> bool) -> Result<()> {
        for (_, path) in self.days()? {
            for e in Self::read_day(&path)? {
                if !visit(e) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<LogEntry>> {
        let mut found = None;
        self.scan(&mut |e| {
            if e.id == id {
                found = Some(e);
                return false;
            }
            true
        })?;
        Ok(found)
    }

    fn purge_before(&self, created: &str) -> Result<usize> {
        let mut open = self.write.lock();
        // Day files may be removed or replaced: appends reopen theirs.
        *open = None;
        let cutoff = day_of(created);
        let mut n = 0;
        for (day, path) in self.days()? {
            if day.as_str() < cutoff {
                n += Self::read_day(&path)?.len();
                fs::remove_file(&path).map_err(internal)?;
            } else if day == cutoff {
                // The boundary day: keep its newer entries, in their original order.
                let all = Self::read_day(&path)?;
                let (old, kept): (Vec<_>, Vec<_>) =
                    all.into_iter().partition(|e| e.created.as_str() < created);
                if old.is_empty() {
                    continue;
                }
                n += old.len();
                let mut out = Vec::new();
                for e in kept.iter().rev() {
                    serde_json::to_writer(&mut out, e).map_err(internal)?;
                    out.push(b'\n');
                }
                let tmp = path.with_extension("tmp");
                fs::write(&tmp, &out).map_err(internal)?;
                fs::rename(&tmp, &path).map_err(internal)?;
            }
        }
        Ok(n)
    }

    fn size_on_disk(&self) -> Option<u64> {
        let days = self.days().ok()?;
        Some(
            days.iter()
                .filter_map(|(_, p)| fs::metadata(p).ok())
                .map(|m| m.len())
                .sum(),
        )
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
            data: serde_json::json!({"status": 200}),
        }
    }

    fn batch(entries: &[LogEntry]) -> LogBatch {
        let mut batch = LogBatch::default();
        for e in entries {
            batch.push(e);
        }
        batch
    }

    fn ids(s: &FileLogStore) -> Vec<String> {
        let mut seen = Vec::new();
        s.scan(&mut |e| {
            seen.push(e.id);
            true
        })
        .unwrap();
        seen
    }

    #[test]
    fn append_scan_get_purge() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileLogStore::open(&dir.path().join("logs")).unwrap();
        s.append(&batch(&[
            entry("a", "2026-01-01 10:00:00.000Z"),
            entry("b", "2026-01-02 10:00:00.000Z"),
            entry("c", "2026-01-02 11:00:00.000Z"),
        ]))
        .unwrap();
        assert_eq!(ids(&s), ["c", "b", "a"]);
        assert_eq!(s.get("a").unwrap().unwrap().data["status"], 200);
        assert!(s.get("zzz").unwrap().is_none());
        assert!(s.size_on_disk().unwrap() > 0);
        assert_eq!(s.purge_before("2026-01-02 00:00:00.000Z").unwrap(), 1);
        assert_eq!(ids(&s), ["c", "b"]);
        // Within a day, entries older than the cutoff go and the rest stay.
        assert_eq!(s.purge_before("2026-01-02 10:30:00.000Z").unwrap(), 1);
        assert_eq!(ids(&s), ["c"]);
        s.append(&batch(&[entry("d", "2026-01-02 12:00:00.000Z")]))
            .unwrap();
        assert_eq!(ids(&s), ["d", "c"]);
        // Reopening finds what was written.
        let s = FileLogStore::open(&dir.path().join("logs")).unwrap();
        assert_eq!(ids(&s), ["d", "c"]);
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileLogStore::open(dir.path()).unwrap();
        s.append(&batch(&[entry("a", "2026-01-01 10:00:00.000Z")]))
            .unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("2026-01-01.jsonl"))
            .unwrap();
        // A crash tore the last line; the store is opened again.
        f.write_all(b"{\"id\":\"tor").unwrap();
        drop(s);
        let s = FileLogStore::open(dir.path()).unwrap();
        assert_eq!(ids(&s), ["a"]);
        // The next append starts on a line of its own.
        s.append(&batch(&[entry("b", "2026-01-01 11:00:00.000Z")]))
            .unwrap();
        assert_eq!(ids(&s), ["b", "a"]);
    }
}
