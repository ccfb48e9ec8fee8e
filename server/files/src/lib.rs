//! Blob storage for file fields: the implementations of `basalt_core::files::FileStore`.
//!
//! [`LocalFileStore`] keeps files in a directory (the default, `<dataDir>/storage`);
//! [`S3FileStore`] keeps them in an S3-compatible bucket through the `object_store`
//! crate. [`Opener`] picks one from the app settings' `s3` block.
//!
//! This crate decides nothing about records, rules or names: it stores bytes under
//! keys it is given, and refuses any key that is not a plain relative path of safe
//! segments (so no key can reach outside its root).

#[doc(hidden)]
pub mod conformance;
mod local;
mod s3;

pub use local::LocalFileStore;
pub use s3::S3FileStore;

use std::path::PathBuf;
use std::sync::Arc;

use basalt_core::files::{FileStore, FileStoreOpener};
use basalt_core::settings::S3;
use basalt_core::{Error, Result};

/// Opens the local store, or the S3 one when `s3.enabled`.
pub struct Opener {
    local: Arc<LocalFileStore>,
    runtime: Option<tokio::runtime::Handle>,
}

impl Opener {
    /// `root` is the local store's directory; `runtime` drives S3 requests (without
    /// one, enabling S3 fails).
    pub fn new(root: PathBuf, runtime: Option<tokio::runtime::Handle>) -> Result<Opener> {
        Ok(Opener {
            local: Arc::new(LocalFileStore::open(root)?),
            runtime,
        })
    }
}

impl FileStoreOpener for Opener {
    fn open(&self, s3: &S3) -> Result<Arc<dyn FileStore>> {
        if !s3.enabled {
            return Ok(self.local.clone());
        }
        let Some(runtime) = self.runtime.clone() else {
            return Err(Error::bad_request("S3 storage needs the server's runtime."));
        };
        Ok(Arc::new(S3FileStore::open(s3, runtime)?))
    }
}

/// The error a refused key gives.
fn bad_key(key: &str) -> Error {
    tracing::warn!(%key, "refused an unsafe storage key");
    Error::bad_request("Invalid file path.")
}
