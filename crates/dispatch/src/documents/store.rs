//! Where document bytes live: an object store behind the `object_store`
//! interface, and the short-lived download links to them, so no key is
//! ever public.
//!
//! - `file:///folder` (the default): a local folder; links go through this
//!   server (`/api/v1/files/{key}?exp&sig`, HMAC-SHA256 over the key and
//!   the expiry).
//! - `s3://bucket/prefix`: Amazon S3 or an S3-compatible server, with the
//!   usual AWS settings (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_REGION`, or the instance's role), which `storage.s3_*` settings
//!   override where set; links are S3 presigned URLs.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use hmac::{Hmac, KeyInit, Mac};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::signer::Signer;
use object_store::{ObjectStore, PutPayload};
use secrecy::ExposeSecret;
use sha2::Sha256;

use super::settings::StorageSettings;

type HmacSha256 = Hmac<Sha256>;

/// The object store and the link key. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    links: Links,
    keyed: HmacSha256,
    settings: Arc<StorageSettings>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("url", &self.settings.url)
            .finish_non_exhaustive()
    }
}

/// A storage failure (the store is unreachable, a file cannot be written).
#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
pub struct StorageError(pub String);

impl From<object_store::Error> for StorageError {
    fn from(error: object_store::Error) -> Self {
        Self(error.to_string())
    }
}

/// How download links are made.
#[derive(Clone)]
enum Links {
    /// Through this server, signed with the server's secret.
    Served,
    /// S3 presigned URLs for the bucket, under the store's prefix.
    Presigned { bucket: Arc<AmazonS3>, prefix: Path },
}

fn open_folder(folder: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
    std::fs::create_dir_all(folder).map_err(|e| StorageError(format!("creating {folder}: {e}")))?;
    let folder = std::fs::canonicalize(folder)
        .map_err(|e| StorageError(format!("opening {folder}: {e}")))?;
    Ok(Arc::new(LocalFileSystem::new_with_prefix(folder)?))
}

fn open_bucket(
    location: &str,
    settings: &StorageSettings,
) -> Result<(Arc<dyn ObjectStore>, Links), StorageError> {
    let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
    if bucket.is_empty() {
        return Err(StorageError(format!(
            "storage.url `{}` names no bucket: s3://bucket/prefix",
            settings.url
        )));
    }
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = settings.s3_endpoint.as_deref().filter(|e| !e.is_empty()) {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let Some(region) = settings.s3_region.as_deref().filter(|r| !r.is_empty()) {
        builder = builder.with_region(region);
    }
    let secret = settings.s3_secret_access_key.as_ref();
    if let (Some(id), Some(secret)) = (settings.s3_access_key_id.as_deref(), secret)
        && !id.is_empty()
    {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret.expose_secret());
    }
    let bucket = Arc::new(builder.build()?);
    let prefix = Path::from(prefix.trim_matches('/'));
    let unprefixed: Arc<dyn ObjectStore> = Arc::clone(&bucket) as Arc<dyn ObjectStore>;
    let store: Arc<dyn ObjectStore> = Arc::new(PrefixStore::new(unprefixed, prefix.clone()));
    Ok((store, Links::Presigned { bucket, prefix }))
}

impl Storage {
    /// Opens the store `settings.url` names (`file://` or `s3://`); served
    /// links are signed under `secret` (its own label, so a link never
    /// verifies as anything else).
    pub fn open(settings: StorageSettings, secret: &[u8]) -> Result<Self, StorageError> {
        let (store, links) = if let Some(folder) = settings.url.strip_prefix("file://") {
            (open_folder(folder)?, Links::Served)
        } else if let Some(location) = settings.url.strip_prefix("s3://") {
            open_bucket(location, &settings)?
        } else {
            return Err(StorageError(format!(
                "storage.url `{}`: use file:///folder or s3://bucket/prefix",
                settings.url
            )));
        };
        let mut keyed = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
        keyed.update(b"files\0");
        Ok(Self {
            store,
            links,
            keyed,
            settings: Arc::new(settings),
        })
    }

    /// The `[storage]` settings.
    pub fn settings(&self) -> &StorageSettings {
        &self.settings
    }

    /// Stores `bytes` under `key`.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// The bytes under `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self.store.get(&Path::from(key)).await {
            Ok(found) => Ok(Some(found.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes `key` (gone already is fine).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Keys under `prefix` last written before `before`.
    pub async fn older_than(
        &self,
        prefix: &str,
        before: DateTime<Utc>,
    ) -> Result<Vec<String>, StorageError> {
        let prefix = Path::from(prefix);
        let mut listed = self.store.list(Some(&prefix));
        let mut keys = Vec::new();
        while let Some(meta) = listed.next().await {
            let meta = meta?;
            if meta.last_modified < before {
                keys.push(meta.location.to_string());
            }
        }
        Ok(keys)
    }

    fn signature(&self, key: &str, expires: i64) -> String {
        let mut mac = self.keyed.clone();
        mac.update(key.as_bytes());
        mac.update(b"\0");
        mac.update(expires.to_string().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A download link for `key`, valid `url_ttl_secs` from `now`: this
    /// server's signed link for a folder, a presigned URL for S3 (whose
    /// clock is the bucket's).
    pub async fn signed_url(&self, key: &str, now: DateTime<Utc>) -> Result<String, StorageError> {
        match &self.links {
            Links::Served => {
                let expires = now.timestamp() + self.settings.url_ttl_secs;
                Ok(format!(
                    "{}/api/v1/files/{key}?exp={expires}&sig={}",
                    self.settings.public_base_url.trim_end_matches('/'),
                    self.signature(key, expires)
                ))
            }
            Links::Presigned { bucket, prefix } => {
                let path: Path = prefix.parts().chain(Path::from(key).parts()).collect();
                let ttl = std::time::Duration::from_secs(
                    u64::try_from(self.settings.url_ttl_secs).unwrap_or(0),
                );
                let url = bucket.signed_url(reqwest::Method::GET, &path, ttl).await?;
                Ok(url.to_string())
            }
        }
    }

    /// Whether links are served by this server (`GET files/{key}`) rather
    /// than by the bucket.
    pub fn serves_links(&self) -> bool {
        matches!(self.links, Links::Served)
    }

    /// Whether `sig` is this server's signature of `key` until `expires`,
    /// and that time has not passed.
    pub fn verify(&self, key: &str, expires: i64, sig: &str, now: DateTime<Utc>) -> bool {
        if expires <= now.timestamp() {
            return false;
        }
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        let mut mac = self.keyed.clone();
        mac.update(key.as_bytes());
        mac.update(b"\0");
        mac.update(expires.to_string().as_bytes());
        mac.verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> StorageSettings {
        StorageSettings {
            url: url.to_owned(),
            s3_endpoint: Some("http://127.0.0.1:9".to_owned()),
            s3_region: Some("us-east-1".to_owned()),
            s3_access_key_id: Some("id".to_owned()),
            s3_secret_access_key: Some("secret".to_owned().into()),
            public_base_url: "http://127.0.0.1:3000".to_owned(),
            url_ttl_secs: 900,
            retention_days: 30,
            max_file_bytes: 1,
            max_request_bytes: 1,
            max_fields: 1,
            max_image_side: 1,
            orphan_after_secs: 1,
        }
    }

    #[test]
    fn only_folders_and_buckets_are_opened() {
        let refused = |url: &str| Storage::open(settings(url), b"k").err().map(|e| e.0);
        assert!(refused("gs://bucket").is_some_and(|e| e.contains("s3://bucket/prefix")));
        assert!(refused("s3:///prefix").is_some_and(|e| e.contains("names no bucket")));
        let bucket = Storage::open(settings("s3://photos/weelo/docs"), b"k");
        assert!(bucket.is_ok_and(|s| !s.serves_links()));
    }

    #[tokio::test]
    async fn presigned_links_name_the_bucket_prefix_and_key() {
        let storage = Storage::open(settings("s3://photos/weelo/docs/"), b"k").map_err(|e| e.0);
        let link = match storage {
            Ok(storage) => storage.signed_url("documents/a/b.jpg", Utc::now()).await,
            Err(error) => panic!("{error}"),
        };
        let link = link.map_err(|e| e.0).unwrap_or_default();
        assert!(
            link.starts_with("http://127.0.0.1:9/photos/weelo/docs/documents/a/b.jpg?"),
            "{link}"
        );
        assert!(link.contains("X-Amz-Expires=900"), "{link}");
    }
}
