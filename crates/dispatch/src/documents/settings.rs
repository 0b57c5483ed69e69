//! The `[storage]` section: where documents are kept, how long a download
//! link lives, how long replaced documents are kept, and the upload limits.

use secrecy::SecretString;
use serde::Deserialize;

/// Storage settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// `file:///var/lib/weelo/objects` (a local folder, created if
    /// missing) or `s3://bucket/prefix`.
    pub url: String,
    /// An S3-compatible server's address (`http://…` allows plain HTTP);
    /// empty or absent for Amazon S3 itself.
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    /// The bucket's region; absent reads `AWS_REGION`.
    #[serde(default)]
    pub s3_region: Option<String>,
    /// An access key for the bucket; absent reads `AWS_ACCESS_KEY_ID` (or
    /// the instance's role).
    #[serde(default)]
    pub s3_access_key_id: Option<String>,
    /// Its secret (`APP_STORAGE__S3_SECRET_ACCESS_KEY`); absent reads
    /// `AWS_SECRET_ACCESS_KEY`.
    #[serde(default)]
    pub s3_secret_access_key: Option<SecretString>,
    /// Where clients reach this server (download links start with it).
    pub public_base_url: String,
    /// A download link works this long.
    pub url_ttl_secs: i64,
    /// Replaced and rejected documents are deleted after this many days.
    pub retention_days: i64,
    /// Largest file, bytes.
    pub max_file_bytes: usize,
    /// Largest request, bytes.
    pub max_request_bytes: usize,
    /// Most parts in one form.
    pub max_fields: usize,
    /// Widest or tallest image accepted, pixels.
    pub max_image_side: u32,
    /// An object no row names, older than this, is an orphan to delete.
    pub orphan_after_secs: i64,
}
