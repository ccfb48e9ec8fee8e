//! Backups of the data directory: zip archives in `<data>/backups/`.
//!
//! An archive holds `basalt-backup.json` (what it contains), `store.dump` (a consistent
//! snapshot of the store taken while writes go on, see `RecordStore::export`), the
//! token `secret`, and the uploaded files under `storage/`. Search indexes are not in
//! it: they are rebuilt from the store after a restore.
//!
//! A restore never touches the live data until the archive has been checked
//! completely: the dump is imported into `<data>/.restore-staging/` (every record
//! decoded, every index rebuilt, the store verified), the files extracted next to it,
//! and only then is the directory renamed to `.restore-ready`. The swap happens with
//! the store closed ([`apply_staged_restore`]: on start, or when the server restarts
//! itself after `POST /api/backups/{key}/restore`); it is resumable, and the replaced
//! data is kept in `<data>/.pre-restore/` until the next restore.
//!
//! With `backups.s3` enabled in the settings, every archive created (by hand, by the
//! schedule, or uploaded) is also copied to that bucket under its key, streamed in
//! multipart chunks; deleting or pruning a backup deletes the copy too. The local
//! directory stays the working set; the bucket is the off-site copy to restore from
//! when the machine is lost (download the archive, then `basalt backup restore FILE`).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use basalt_core::backup::{self, BackupInfo, Backups};
use basalt_core::files::{FileStore, FileStoreOpener};
use basalt_core::service::Services;
use basalt_core::{Code, Error};
use basalt_storage::{SledOptions, SledStore};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;

/// The archive format this build writes and reads.
const ARCHIVE_FORMAT: u32 = 1;
const MANIFEST: &str = "basalt-backup.json";
const DUMP: &str = "store.dump";
/// The files directory inside the data directory (and inside an archive).
pub const FILES_DIR: &str = "storage";
const STAGING: &str = ".restore-staging";
const READY: &str = ".restore-ready";
const PREVIOUS: &str = ".pre-restore";
/// What a restore replaces, in the data directory.
const RESTORED: [&str; 3] = ["store", FILES_DIR, "secret"];

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: u32,
    pub basalt: String,
    pub created: String,
    pub seq: u64,
    pub collections: usize,
    pub records: u64,
    pub files: u64,
    /// `rebuild`: search indexes are rebuilt from the store after a restore.
    pub search: String,
}

/// The backups of one data directory.
pub struct LocalBackups {
    data: PathBuf,
    dir: PathBuf,
    services: Arc<Services>,
    /// Held while a backup or restore runs: one at a time.
    busy: Mutex<()>,
    /// Told when a restore is staged, so the server restarts on the restored data.
    restart: Option<Arc<tokio::sync::Notify>>,
    /// Opens the `backups.s3` bucket for off-site copies.
    offsite: Option<Arc<dyn FileStoreOpener>>,
}

fn internal(e: anyhow::Error) -> Error {
    tracing::error!(error = %format!("{e:#}"), "backup operation failed");
    Error::internal(format!("{e:#}"))
}

impl LocalBackups {
    pub fn new(
        data: &Path,
        services: Arc<Services>,
        restart: Option<Arc<tokio::sync::Notify>>,
    ) -> LocalBackups {
        LocalBackups {
            data: data.to_owned(),
            dir: data.join("backups"),
            services,
            busy: Mutex::new(()),
            restart,
            offsite: None,
        }
    }

    /// Copies archives to the `backups.s3` bucket when the settings enable it.
    pub fn with_offsite(mut self, opener: Arc<dyn FileStoreOpener>) -> LocalBackups {
        self.offsite = Some(opener);
        self
    }

    /// The off-site bucket, when `backups.s3` is enabled.
    fn offsite_store(&self) -> basalt_core::Result<Option<Arc<dyn FileStore>>> {
        let s3 = self.services.settings().backups.s3.clone();
        match &self.offsite {
            Some(opener) if s3.enabled => opener.open(&s3).map(Some),
            _ => Ok(None),
        }
    }

    /// Copies the archive `key` off site (when enabled).
    fn mirror(&self, key: &str) -> basalt_core::Result<()> {
        let copied = self
            .offsite_store()
            .and_then(|store| match store {
                Some(store) => {
                    let started = Instant::now();
                    store.put_file(key, &self.dir.join(key))?;
                    tracing::info!(%key, ms = started.elapsed().as_millis() as u64, "backup copied to S3");
                    Ok(())
                }
                None => Ok(()),
            });
        copied.map_err(|e| {
            tracing::error!(%key, error = %e.message, "copying a backup to S3 failed");
            Error::new(
                Code::Unavailable,
                format!(
                    "The backup {key} was saved locally, but copying it to S3 failed: {}",
                    e.message
                ),
            )
        })
    }

    /// Deletes the off-site copy of `key` (when enabled).
    fn unmirror(&self, key: &str) -> basalt_core::Result<()> {
        if let Some(store) = self.offsite_store()? {
            store.delete(key).map_err(|e| {
                tracing::error!(%key, error = %e.message, "deleting a backup's S3 copy failed");
                Error::new(
                    Code::Unavailable,
                    format!(
                        "The backup {key} was deleted locally, but deleting its S3 copy failed: {}",
                        e.message
                    )
                    .as_str(),
                )
            })?;
        }
        Ok(())
    }

    fn existing(&self, key: &str) -> basalt_core::Result<PathBuf> {
        backup::check_name(key).map_err(|_| backup::not_found())?;
        let path = self.dir.join(key);
        if !path.is_file() {
            return Err(backup::not_found());
        }
        Ok(path)
    }

    /// Writes a backup; `name` is checked by the caller.
    pub fn write(&self, name: &str) -> anyhow::Result<(BackupInfo, Manifest)> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let target = self.dir.join(name);
        let tmp = self.dir.join(format!(".tmp-{name}"));
        let result = write_archive(&self.data, &self.services, &tmp);
        let manifest = match result {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std::fs::rename(&tmp, &target)?;
        Ok((info(&target)?, manifest))
    }

    /// Deletes automatic backups beyond the newest `keep`.
    pub fn prune_auto(&self, keep: usize) -> anyhow::Result<usize> {
        let mut autos: Vec<BackupInfo> = self
            .list_files()?
            .into_iter()
            .filter(|b| b.key.starts_with("@auto"))
            .collect();
        autos.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.key.cmp(&a.key)));
        let mut removed = 0;
        for old in autos.iter().skip(keep) {
            std::fs::remove_file(self.dir.join(&old.key))?;
            self.unmirror(&old.key)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            removed += 1;
        }
        Ok(removed)
    }

    fn list_files(&self) -> anyhow::Result<Vec<BackupInfo>> {
        list(&self.data)
    }

    /// Runs `f` unless another backup or restore is running.
    fn exclusive<T>(&self, f: impl FnOnce() -> basalt_core::Result<T>) -> basalt_core::Result<T> {
        let Some(_guard) = self.busy.try_lock() else {
            return Err(backup::busy());
        };
        f()
    }
}

/// The archives in `<data>/backups`, newest first.
pub fn list(data: &Path) -> anyhow::Result<Vec<BackupInfo>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(data.join("backups")) else {
        return Ok(out);
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if backup::check_name(&name).is_ok() && entry.file_type()?.is_file() {
            out.push(info(&entry.path())?);
        }
    }
    out.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.key.cmp(&b.key)));
    Ok(out)
}

/// A generated backup name, PocketBase style.
pub fn generated_name(prefix: &str, app_name: &str) -> String {
    let app: String = app_name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(50)
        .collect();
    let stamp = chrono_stamp();
    format!("{prefix}{app}_{stamp}.zip")
}

fn chrono_stamp() -> String {
    // `2006-01-02 15:04:05.000Z` → `20060102150405`
    basalt_core::time::now()
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect()
}

fn info(path: &Path) -> anyhow::Result<BackupInfo> {
    let meta = std::fs::metadata(path)?;
    let modified = meta
        .modified()
        .map(|t| basalt_core::time::format(t.into()))
        .unwrap_or_default();
    Ok(BackupInfo {
        key: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        size: meta.len(),
        modified,
    })
}

impl Backups for LocalBackups {
    fn list(&self) -> basalt_core::Result<Vec<BackupInfo>> {
        self.list_files().map_err(internal)
    }

    fn create(&self, name: Option<&str>) -> basalt_core::Result<BackupInfo> {
        let name = match name {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => generated_name("pb_backup_", &self.services.settings().meta.app_name),
        };
        backup::check_name(&name)?;
        self.exclusive(|| {
            if self.dir.join(&name).exists() {
                return Err(Error::invalid_field(
                    "An error occurred while validating the submitted data.",
                    "name",
                    "validation_backup_name_exists",
                    "The backup file name is already used.",
                ));
            }
            let started = Instant::now();
            let (info, m) = self.write(&name).map_err(internal)?;
            tracing::info!(key = %info.key, records = m.records, files = m.files, bytes = info.size,
                ms = started.elapsed().as_millis() as u64, "backup created");
            self.mirror(&info.key)?;
            Ok(info)
        })
    }

    fn delete(&self, key: &str) -> basalt_core::Result<()> {
        let path = self.existing(key)?;
        self.exclusive(|| {
            std::fs::remove_file(&path).map_err(|e| internal(e.into()))?;
            self.unmirror(key)
        })
    }

    fn path(&self, key: &str) -> basalt_core::Result<PathBuf> {
        self.existing(key)
    }

    fn upload(&self, key: &str, bytes: &[u8]) -> basalt_core::Result<()> {
        backup::check_name(key)?;
        self.exclusive(|| {
            let tmp = self.dir.join(format!(".tmp-{key}"));
            let checked = std::fs::create_dir_all(&self.dir)
                .and_then(|()| std::fs::write(&tmp, bytes))
                .map_err(anyhow::Error::from)
                .and_then(|()| read_manifest(&tmp));
            if let Err(e) = checked {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::invalid_field(
                    "An error occurred while validating the submitted data.",
                    "file",
                    "validation_invalid_backup",
                    format!("Not a Basalt backup: {e:#}.").as_str(),
                ));
            }
            std::fs::rename(&tmp, self.dir.join(key)).map_err(|e| internal(e.into()))?;
            self.mirror(key)
        })
    }

    fn restore(&self, key: &str) -> basalt_core::Result<()> {
        let path = self.existing(key)?;
        let Some(restart) = &self.restart else {
            return Err(Error::new(
                Code::BadRequest,
                "Restoring needs the server: use `basalt backup restore` with the server stopped.",
            ));
        };
        self.exclusive(|| {
            stage_restore(&self.data, &path).map_err(|e| {
                Error::new(
                    Code::BadRequest,
                    format!("The backup cannot be restored: {e:#}."),
                )
            })?;
            tracing::warn!(
                key,
                "backup verified and staged; restarting on the restored data"
            );
            restart.notify_one();
            Ok(())
        })
    }
}

/// Writes the archive of `data` to `path`.
fn write_archive(data: &Path, services: &Services, path: &Path) -> anyhow::Result<Manifest> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    zip.start_file(DUMP, options)?;
    let snapshot = services
        .store()
        .export(&mut zip)
        .map_err(|e| anyhow::anyhow!("exporting the store: {}", e.message))?;
    let secret = data.join("secret");
    if secret.is_file() {
        zip.start_file("secret", options)?;
        zip.write_all(&std::fs::read(&secret)?)?;
    }
    let mut files = 0;
    let root = data.join(FILES_DIR);
    if root.is_dir() {
        add_dir(&mut zip, &root, FILES_DIR, options, &mut files)?;
    }
    let manifest = Manifest {
        format: ARCHIVE_FORMAT,
        basalt: env!("CARGO_PKG_VERSION").into(),
        created: basalt_core::time::now(),
        seq: snapshot.seq,
        collections: snapshot.collections,
        records: snapshot.records,
        files,
        search: "rebuild".into(),
    };
    zip.start_file(MANIFEST, options)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    let mut inner = zip.finish()?;
    inner.flush()?;
    inner.get_ref().sync_all()?;
    Ok(manifest)
}

fn add_dir<W: Write + std::io::Seek>(
    zip: &mut zip::ZipWriter<W>,
    dir: &Path,
    prefix: &str,
    options: SimpleFileOptions,
    count: &mut u64,
) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            add_dir(zip, &entry.path(), &name, options, count)?;
        } else if kind.is_file() {
            // A file deleted since the listing is simply not in the backup.
            let Ok(mut f) = File::open(entry.path()) else {
                continue;
            };
            zip.start_file(name, options)?;
            std::io::copy(&mut f, zip)?;
            *count += 1;
        }
    }
    Ok(())
}

fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let mut zip = zip::ZipArchive::new(File::open(path)?).context("not a zip archive")?;
    let mut text = String::new();
    zip.by_name(MANIFEST)
        .with_context(|| format!("{MANIFEST} is missing"))?
        .read_to_string(&mut text)?;
    let m: Manifest =
        serde_json::from_str(&text).with_context(|| format!("{MANIFEST} is invalid"))?;
    if m.format > ARCHIVE_FORMAT {
        bail!(
            "the archive has format {}, newer than the {ARCHIVE_FORMAT} this build reads; use a newer Basalt",
            m.format
        );
    }
    Ok(m)
}

/// Checks an archive completely and stages it as `<data>/.restore-ready`.
pub fn stage_restore(data: &Path, archive: &Path) -> anyhow::Result<Manifest> {
    let manifest = read_manifest(archive)?;
    let staging = data.join(STAGING);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    let result = (|| -> anyhow::Result<()> {
        let mut zip = zip::ZipArchive::new(File::open(archive)?)?;
        {
            let mut dump = std::io::BufReader::new(
                zip.by_name(DUMP)
                    .with_context(|| format!("{DUMP} is missing"))?,
            );
            let (store, info) =
                SledStore::import(&staging.join("store"), &mut dump, SledOptions::default())
                    .map_err(|e| anyhow::anyhow!("the store dump: {e}"))?;
            drop(store);
            if info.records != manifest.records || info.seq != manifest.seq {
                bail!(
                    "the store dump holds {} records at seq {}, the manifest says {} at {}",
                    info.records,
                    info.seq,
                    manifest.records,
                    manifest.seq
                );
            }
        }
        let mut files = 0;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i)?;
            let Some(rel) = entry.enclosed_name() else {
                bail!("entry {:?} escapes the archive", entry.name());
            };
            let is_file = rel.starts_with(FILES_DIR) && !entry.is_dir();
            if !(is_file || rel == Path::new("secret")) {
                continue;
            }
            let out = staging.join(&rel);
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut f = File::create(&out)?;
            std::io::copy(&mut entry, &mut f)?;
            f.sync_all()?;
            files += u64::from(is_file);
        }
        if files != manifest.files {
            bail!(
                "the archive holds {files} files, the manifest says {}",
                manifest.files
            );
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let ready = data.join(READY);
    if ready.exists() {
        std::fs::remove_dir_all(&ready)?;
    }
    std::fs::rename(&staging, &ready)?;
    Ok(manifest)
}

/// Swaps a staged restore into `data` (store closed). Returns whether there was one.
/// Safe to run again after a crash part-way.
pub fn apply_staged_restore(data: &Path) -> anyhow::Result<bool> {
    let ready = data.join(READY);
    if !ready.is_dir() {
        return Ok(false);
    }
    let previous = data.join(PREVIOUS);
    std::fs::create_dir_all(&previous)?;
    for item in RESTORED {
        let (live, staged, kept) = (data.join(item), ready.join(item), previous.join(item));
        // The marker says the live item was moved aside already (resuming after a crash).
        let marker = ready.join(".moved").join(item);
        if !marker.exists() {
            if live.exists() {
                remove_any(&kept)?;
                std::fs::rename(&live, &kept)
                    .with_context(|| format!("moving {} aside", live.display()))?;
            }
            std::fs::create_dir_all(&marker)?;
        }
        if staged.exists() {
            std::fs::rename(&staged, &live)
                .with_context(|| format!("moving the restored {item} in"))?;
        }
    }
    remove_any(&data.join("search"))?;
    std::fs::remove_dir_all(&ready)?;
    tracing::warn!(previous = %previous.display(), "backup restored; the replaced data is kept until the next restore");
    Ok(true)
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}
