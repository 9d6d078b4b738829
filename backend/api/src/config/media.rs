//! Where room pictures and delivery files are kept, and how large they may be.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use super::Problems;

const MIB: u64 = 1024 * 1024;

/// The media settings as read.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_MEDIA_DIR`: where pictures and delivery files are kept when no bucket is set;
    /// default: `media` in the data dir.
    pub media_dir: Option<PathBuf>,
    /// `SHIFTING_MEDIA_S3_BUCKET`: keep them in this S3 bucket instead.
    pub media_s3_bucket: Option<String>,
    /// `SHIFTING_MEDIA_S3_ENDPOINT`: an S3-compatible server (MinIO, Ceph, Garage …) instead of
    /// AWS; `http://` only for one on this machine.
    pub media_s3_endpoint: Option<String>,
    /// `SHIFTING_MEDIA_S3_REGION`: the bucket's region.
    pub media_s3_region: String,
    /// `SHIFTING_MEDIA_S3_ACCESS_KEY_ID`: the access key's id.
    pub media_s3_access_key_id: Option<String>,
    /// `SHIFTING_MEDIA_S3_SECRET_ACCESS_KEY`: the access key's secret.
    pub media_s3_secret_access_key: Option<SecretString>,
    /// `SHIFTING_IMAGE_MAX_BYTES`: the largest picture a seller may upload (before it is
    /// re-encoded).
    pub image_max_bytes: u64,
    /// `SHIFTING_DELIVERY_FILE_MAX_BYTES`: the largest file a seller may attach for buyers.
    pub delivery_file_max_bytes: u64,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            media_dir: None,
            media_s3_bucket: None,
            media_s3_endpoint: None,
            media_s3_region: "us-east-1".into(),
            media_s3_access_key_id: None,
            media_s3_secret_access_key: None,
            image_max_bytes: 10 * MIB,
            delivery_file_max_bytes: 25 * MIB,
        }
    }
}

/// Where the files live.
#[derive(Clone, Debug)]
pub enum MediaBackend {
    /// A directory on this machine (one replica, or a shared volume).
    Dir(PathBuf),
    /// An S3 bucket (AWS or compatible).
    S3(S3Settings),
}

/// An S3 bucket and its credentials.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// The bucket.
    pub bucket: String,
    /// A compatible server's URL; `None`: AWS.
    pub endpoint: Option<Url>,
    /// The region.
    pub region: String,
    /// The access key's id.
    pub access_key_id: String,
    /// The access key's secret.
    pub secret_access_key: SecretString,
}

/// The validated media settings.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// Where the files live.
    pub backend: MediaBackend,
    /// The largest picture upload, in bytes.
    pub image_max_bytes: usize,
    /// The largest delivery file, in bytes.
    pub delivery_file_max_bytes: usize,
}

impl Raw {
    pub(super) fn validate(self, data_dir: &Path, problems: &mut Problems) -> MediaSettings {
        problems.range(
            "image_max_bytes",
            self.image_max_bytes,
            64 * 1024..=64 * MIB,
        );
        problems.range(
            "delivery_file_max_bytes",
            self.delivery_file_max_bytes,
            1024..=512 * MIB,
        );
        let backend = match self.media_s3_bucket.filter(|b| !b.trim().is_empty()) {
            None => MediaBackend::Dir(self.media_dir.unwrap_or_else(|| data_dir.join("media"))),
            Some(bucket) => {
                let endpoint = self.media_s3_endpoint.and_then(|raw| {
                    match Url::parse(&raw) {
                        Ok(url) if url.scheme() == "https" => Some(url),
                        Ok(url)
                            if url.scheme() == "http"
                                && url.host_str().is_some_and(|host| {
                                    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
                                }) =>
                        {
                            Some(url)
                        }
                        _ => {
                            problems.push(
                                "media_s3_endpoint must be an https:// URL (http:// only on this machine)",
                            );
                            None
                        }
                    }
                });
                let (Some(access_key_id), Some(secret_access_key)) =
                    (self.media_s3_access_key_id, self.media_s3_secret_access_key)
                else {
                    problems.push(
                        "media_s3_bucket needs media_s3_access_key_id and media_s3_secret_access_key",
                    );
                    return MediaSettings::dir(data_dir);
                };
                MediaBackend::S3(S3Settings {
                    bucket,
                    endpoint,
                    region: self.media_s3_region,
                    access_key_id,
                    secret_access_key,
                })
            }
        };
        let bytes = |value: u64| usize::try_from(value.min(512 * MIB)).unwrap_or(usize::MAX);
        MediaSettings {
            backend,
            image_max_bytes: bytes(self.image_max_bytes),
            delivery_file_max_bytes: bytes(self.delivery_file_max_bytes),
        }
    }
}

impl MediaSettings {
    /// The defaults, in `data_dir`.
    fn dir(data_dir: &Path) -> Self {
        let mut problems = Problems::default();
        Raw::default().validate(data_dir, &mut problems)
    }
}
