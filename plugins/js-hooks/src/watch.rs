//! The hooks directory: reading its `*.js` files (sorted by name) and polling their
//! names, sizes and modification times for changes.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::{Duration, SystemTime};

use basalt_plugin_api::PluginError;

use crate::engine::Job;
use crate::Shared;

/// Each file's name, modification time and size: a change in any reloads.
pub type Stamp = Vec<(String, Option<SystemTime>, u64)>;

pub struct Files {
    pub contents: Vec<(String, String)>,
    pub stamp: Stamp,
}

fn stamp(dir: &Path) -> Result<Stamp, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("reading the hooks dir {}: {e}", dir.display()))?;
    let mut stamp = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".js") || name.starts_with('.') {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_file() {
            stamp.push((name, meta.modified().ok(), meta.len()));
        }
    }
    stamp.sort();
    Ok(stamp)
}

/// Every `*.js` file of `dir`, sorted by name.
pub fn read_dir(dir: &Path) -> Result<Files, String> {
    let stamp = stamp(dir)?;
    let mut contents = Vec::new();
    for (name, _, _) in &stamp {
        let text = std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("reading {}: {e}", dir.join(name).display()))?;
        contents.push((name.clone(), text));
    }
    Ok(Files { contents, stamp })
}

/// Polls `dir` every `poll` and sends a load of the new set when it changed; stops
/// once the plugin is gone (the server stopped).
pub fn start(
    shared: Weak<Shared>,
    dir: PathBuf,
    poll: Duration,
    mut last: Stamp,
) -> Result<(), PluginError> {
    let watch = move || loop {
        std::thread::sleep(poll);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let Ok(now) = stamp(&dir) else { continue };
        if now == last {
            continue;
        }
        let files = match read_dir(&dir) {
            Ok(files) => files,
            Err(_) => continue, // a file vanished or is being written: next round
        };
        last = files.stamp;
        if let Some(jobs) = shared.sender() {
            let _ = jobs.send(Job::Load {
                files: files.contents,
                reply: None,
            });
        }
    };
    std::thread::Builder::new()
        .name("basalt-js-watch".into())
        .spawn(watch)
        .map(|_| ())
        .map_err(|e| PluginError(format!("starting the hooks dir watcher: {e}")))
}
