//! Files people upload: room pictures and delivery files. One store for both, in a directory by
//! default or in an S3 bucket (AWS or compatible) when configured, through `object_store`; and
//! the picture pipeline ([`images`]) that turns an upload into something safe to serve.

pub mod images;

use std::sync::Arc;

use axum::body::Bytes;
use futures::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use secrecy::ExposeSecret;

use crate::config::{MediaBackend, MediaSettings};

/// Where uploaded files are kept. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    /// Uploads being read and processed at once on this replica: each may hold its body (up
    /// to the size limit) and a decoded picture (up to about 0.8 GB for 40 megapixels at 16
    /// bits), so they take turns.
    uploads: Arc<tokio::sync::Semaphore>,
}

/// How many uploads a replica reads and processes at once.
const UPLOADS_AT_ONCE: usize = 2;

/// A stored file's bytes as they arrive from the store.
pub type ByteStream = BoxStream<'static, Result<Bytes, object_store::Error>>;

impl MediaStore {
    /// Opens the configured store; the directory is created when missing.
    ///
    /// # Errors
    /// When the directory cannot be created or the bucket's settings do not build a client.
    pub fn open(settings: &MediaSettings) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match &settings.backend {
            MediaBackend::Dir(dir) => {
                std::fs::create_dir_all(dir).map_err(|err| {
                    anyhow::anyhow!("cannot create the media directory {}: {err}", dir.display())
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?)
            }
            MediaBackend::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(s3.secret_access_key.expose_secret());
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                        .with_allow_http(endpoint.scheme() == "http");
                }
                Arc::new(builder.build()?)
            }
        };
        Ok(Self {
            store,
            uploads: Arc::new(tokio::sync::Semaphore::new(UPLOADS_AT_ONCE)),
        })
    }

    /// A turn to read and process one upload; held until dropped.
    ///
    /// # Errors
    /// Never in practice: the semaphore is never closed.
    pub async fn upload_turn(&self) -> anyhow::Result<tokio::sync::OwnedSemaphorePermit> {
        Ok(self.uploads.clone().acquire_owned().await?)
    }

    /// Stores `bytes` under `key`, replacing what was there.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    /// The file under `key` with its size, as a stream; `None` when there is none.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<(u64, ByteStream)>> {
        match self.store.get(&Path::from(key)).await {
            Ok(found) => {
                let size = found.meta.size;
                Ok(Some((size, found.into_stream())))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes the file under `key`; a missing one is not an error.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes `key` off the request: for files a failed or replaced write left behind. A
    /// failure is logged; the file is then an orphan, never a dangling reference.
    pub fn delete_in_background(&self, key: String) {
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(err) = store.delete(&key).await {
                tracing::warn!(%key, error = format!("{err:#}"), "a stored file could not be deleted");
            }
        });
    }
}
