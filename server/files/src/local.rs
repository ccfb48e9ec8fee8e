//! Files in a local directory: one file per key, written to a temporary sibling,
//! synced and renamed into place, so a crash never leaves half a file under a key.

use std::fs;
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use basalt_core::files::{safe_key, Blob, ByteRange, FileStore};
use basalt_core::{Error, Result};

use crate::bad_key;

pub struct LocalFileStore {
    root: PathBuf,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::internal(format!("{what} {}: {e}", path.display()))
}

impl LocalFileStore {
    pub fn open(root: PathBuf) -> Result<LocalFileStore> {
        fs::create_dir_all(&root).map_err(|e| io("creating", &root, e))?;
        Ok(LocalFileStore { root })
    }

    /// The path of `key`, refusing anything but safe relative segments.
    fn path(&self, key: &str) -> Result<PathBuf> {
        let trimmed = key.trim_end_matches('/');
        if !safe_key(trimmed) {
            return Err(bad_key(key));
        }
        Ok(trimmed.split('/').fold(self.root.clone(), |p, s| p.join(s)))
    }
}

impl FileStore for LocalFileStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
        let tmp = dir.join(format!(".tmp-{}", basalt_core::ids::random_string(12)));
        let written = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        written.map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io("writing", &path, e)
        })
    }

    fn get(&self, key: &str, range: Option<ByteRange>) -> Result<Option<Blob>> {
        let path = self.path(key)?;
        let mut f = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("opening", &path, e)),
        };
        let meta = f.metadata().map_err(|e| io("reading", &path, e))?;
        if !meta.is_file() {
            return Ok(None);
        }
        let size = meta.len();
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        let (start, end) = match range {
            None => (0, size),
            Some(r) => (
                r.start.min(size),
                r.end.map_or(size, |e| e.saturating_add(1).min(size)),
            ),
        };
        let len = end.saturating_sub(start);
        let mut bytes = Vec::with_capacity(len as usize);
        f.seek(SeekFrom::Start(start))
            .and_then(|_| f.take(len).read_to_end(&mut bytes))
            .map_err(|e| io("reading", &path, e))?;
        Ok(Some(Blob {
            bytes,
            size,
            modified,
        }))
    }

    fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.path(key)?.is_file())
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io("removing", &path, e)),
        }
        // Drop directories left empty, up to (not including) the root.
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let base = self.path(prefix)?;
        let mut out = Vec::new();
        let mut stack = vec![base];
        while let Some(dir) = stack.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io("listing", &dir, e)),
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(".tmp-") {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    out.push(key.join("/"));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let path = self.path(prefix)?;
        match fs::remove_dir_all(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("removing", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;

    #[test]
    fn local_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFileStore::open(dir.path().join("storage")).unwrap();
        conformance::run(&store);
    }

    #[test]
    fn keys_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFileStore::open(dir.path().join("storage")).unwrap();
        fs::write(dir.path().join("secret"), b"s").unwrap();
        for key in [
            "../secret",
            "a/../../secret",
            "/etc/passwd",
            "a\\..\\secret",
            "",
            "a//b",
            "./a",
        ] {
            assert!(store.get(key, None).is_err(), "{key}");
            assert!(store.put(key, b"x").is_err(), "{key}");
            assert!(store.delete(key).is_err(), "{key}");
        }
        assert!(dir.path().join("secret").exists());
    }
}
