//! A folder of a test's own under the system's temporary folder, removed
//! with everything in it when the test ends.

use std::path::PathBuf;

/// The folder; removed on drop.
#[derive(Debug)]
pub struct TestFolder {
    path: PathBuf,
}

impl TestFolder {
    /// A new, empty folder named `weelo-{what}-{random}`.
    pub fn new(what: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("weelo-{what}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// Where it is.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// As a `file://` URL.
    pub fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }
}

impl Drop for TestFolder {
    fn drop(&mut self) {
        drop(std::fs::remove_dir_all(&self.path));
    }
}
