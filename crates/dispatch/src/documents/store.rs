//! Where document bytes live: an object store behind the `object_store`
//! interface (a local folder by default), and download links signed with
//! the server's secret (`/api/v1/files/{key}?exp&sig`, HMAC-SHA256 over the
//! key and the expiry), so no key is ever public.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use hmac::{Hmac, KeyInit, Mac};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use sha2::Sha256;

use super::settings::StorageSettings;

type HmacSha256 = Hmac<Sha256>;

/// The object store and the link key. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
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

impl Storage {
    /// Opens the store `settings.url` names; links are signed under
    /// `secret` (its own label, so a link never verifies as anything else).
    pub fn open(settings: StorageSettings, secret: &[u8]) -> Result<Self, StorageError> {
        let Some(folder) = settings.url.strip_prefix("file://") else {
            return Err(StorageError(format!(
                "storage.url `{}`: only file:// folders are supported by this build",
                settings.url
            )));
        };
        std::fs::create_dir_all(folder)
            .map_err(|e| StorageError(format!("creating {folder}: {e}")))?;
        let folder = std::fs::canonicalize(folder)
            .map_err(|e| StorageError(format!("opening {folder}: {e}")))?;
        let store = LocalFileSystem::new_with_prefix(folder)?;
        let mut keyed = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
        keyed.update(b"files\0");
        Ok(Self {
            store: Arc::new(store),
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

    /// A download link for `key`, valid `url_ttl_secs` from `now`.
    pub fn signed_url(&self, key: &str, now: DateTime<Utc>) -> String {
        let expires = now.timestamp() + self.settings.url_ttl_secs;
        format!(
            "{}/api/v1/files/{key}?exp={expires}&sig={}",
            self.settings.public_base_url.trim_end_matches('/'),
            self.signature(key, expires)
        )
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
