//! Files in an S3-compatible bucket (AWS, MinIO, R2, …) through `object_store`.
//! The trait is blocking, so each call is driven on the server's runtime with
//! `block_on`: callers are blocking-pool or plain threads, never async tasks.

use std::sync::Arc;

use basalt_core::files::{safe_key, Blob, ByteRange, FileStore};
use basalt_core::settings::S3;
use basalt_core::{Error, Result};
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use tokio::runtime::Handle;

use crate::bad_key;

pub struct S3FileStore {
    store: Arc<dyn ObjectStore>,
    runtime: Handle,
}

fn remote(e: object_store::Error) -> Error {
    Error::internal(format!("s3: {e}"))
}

impl S3FileStore {
    /// Builds the client from the settings; no request is made yet.
    pub fn open(s3: &S3, runtime: Handle) -> Result<S3FileStore> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&s3.bucket)
            .with_region(if s3.region.is_empty() {
                "us-east-1"
            } else {
                &s3.region
            })
            .with_access_key_id(&s3.access_key)
            .with_secret_access_key(&s3.secret)
            .with_virtual_hosted_style_request(!s3.force_path_style);
        if !s3.endpoint.is_empty() {
            builder = builder
                .with_endpoint(&s3.endpoint)
                .with_allow_http(s3.endpoint.starts_with("http://"));
        }
        let store = builder
            .build()
            .map_err(|e| Error::bad_request(format!("Invalid S3 settings: {e}")))?;
        Ok(S3FileStore {
            store: Arc::new(store),
            runtime,
        })
    }

    fn path(key: &str) -> Result<Path> {
        let trimmed = key.trim_end_matches('/');
        if !safe_key(trimmed) {
            return Err(bad_key(key));
        }
        Path::parse(trimmed).map_err(|_| bad_key(key))
    }
}

impl FileStore for S3FileStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = S3FileStore::path(key)?;
        let payload = PutPayload::from(bytes.to_vec());
        self.runtime
            .block_on(self.store.put(&path, payload))
            .map(|_| ())
            .map_err(remote)
    }

    fn put_file(&self, key: &str, file: &std::path::Path) -> Result<()> {
        use std::io::Read;
        /// Parts of a multipart upload (S3 wants at least 5 MiB but the last).
        const PART: usize = 8 * 1024 * 1024;
        let path = S3FileStore::path(key)?;
        let mut input = std::fs::File::open(file)
            .map_err(|e| Error::internal(format!("reading {}: {e}", file.display())))?;
        self.runtime.block_on(async {
            let upload = self.store.put_multipart(&path).await.map_err(remote)?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buf = vec![0u8; PART];
            loop {
                let n = match input.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(Error::internal(format!("reading {}: {e}", file.display())));
                    }
                };
                // At most two parts in flight: memory stays bounded.
                writer.wait_for_capacity(2).await.map_err(remote)?;
                writer.write(&buf[..n]);
            }
            writer.finish().await.map(|_| ()).map_err(remote)
        })
    }

    fn get(&self, key: &str, range: Option<ByteRange>) -> Result<Option<Blob>> {
        let path = S3FileStore::path(key)?;
        self.runtime.block_on(async {
            let meta = match self.store.head(&path).await {
                Ok(m) => m,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(remote(e)),
            };
            let size = meta.size;
            let (start, end) = match range {
                None => (0, size),
                Some(r) => (
                    r.start.min(size),
                    r.end.map_or(size, |e| e.saturating_add(1).min(size)),
                ),
            };
            let bytes = if start >= end {
                Vec::new()
            } else {
                let opts = GetOptions {
                    range: Some(GetRange::Bounded(start..end)),
                    ..GetOptions::default()
                };
                let got = match self.store.get_opts(&path, opts).await {
                    Ok(g) => g,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(remote(e)),
                };
                got.bytes().await.map_err(remote)?.to_vec()
            };
            Ok(Some(Blob {
                bytes,
                size,
                modified: Some(meta.last_modified.timestamp()),
            }))
        })
    }

    fn exists(&self, key: &str) -> Result<bool> {
        let path = S3FileStore::path(key)?;
        match self.runtime.block_on(self.store.head(&path)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(remote(e)),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = S3FileStore::path(key)?;
        match self.runtime.block_on(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote(e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let path = S3FileStore::path(prefix)?;
        let mut keys: Vec<String> = self
            .runtime
            .block_on(
                self.store
                    .list(Some(&path))
                    .map_ok(|m| m.location.to_string())
                    .try_collect(),
            )
            .map_err(remote)?;
        keys.sort();
        Ok(keys)
    }
}
