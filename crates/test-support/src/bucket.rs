//! An S3 bucket of a test's own: an S3-compatible stand-in (`moto_server`,
//! installed by `make services` into `tests/python/.venv`) started on a
//! free port with a fresh bucket, or, when `STORAGE_TEST_S3_URL`
//! (`s3://bucket`) is set, that real bucket under a prefix of the test's
//! own (`STORAGE_TEST_S3_ENDPOINT` for an S3-compatible server; the keys
//! from the usual `AWS_*` variables), which the test leaves empty.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the stand-in is installed (`make services`).
fn stand_in_binary() -> PathBuf {
    std::env::var_os("WEELO_MOTO_SERVER").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/python/.venv/bin/moto_server")
        },
        PathBuf::from,
    )
}

/// The bucket, and the stand-in serving it when there is one.
#[derive(Debug)]
pub struct TestBucket {
    bucket: String,
    prefix: String,
    endpoint: Option<String>,
    keys: Option<(String, String)>,
    child: Option<Child>,
}

impl TestBucket {
    /// A bucket of this test's own.
    pub fn new() -> anyhow::Result<Self> {
        let prefix = format!("weelo-test-{}", uuid::Uuid::new_v4().simple());
        if let Ok(url) = std::env::var("STORAGE_TEST_S3_URL") {
            let bucket = url
                .strip_prefix("s3://")
                .map(|b| b.trim_end_matches('/').to_owned())
                .ok_or_else(|| anyhow::anyhow!("STORAGE_TEST_S3_URL must be s3://bucket"))?;
            return Ok(Self {
                bucket,
                prefix,
                endpoint: std::env::var("STORAGE_TEST_S3_ENDPOINT").ok(),
                keys: None,
                child: None,
            });
        }
        let binary = stand_in_binary();
        anyhow::ensure!(
            binary.exists(),
            "{} is missing: run `make services` (it installs the S3 stand-in)",
            binary.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let bucket = Self {
            bucket: "weelo-documents".to_owned(),
            prefix,
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            keys: Some(("test-key".to_owned(), "test-secret".to_owned())),
            child: Some(child),
        };
        bucket.create(port)?;
        Ok(bucket)
    }

    /// Creates the bucket on the stand-in, waiting until it answers.
    fn create(&self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let request = format!(
            "PUT /{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.bucket
        );
        while Instant::now() < deadline {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                stream.write_all(request.as_bytes())?;
                let mut answer = String::new();
                stream.read_to_string(&mut answer)?;
                anyhow::ensure!(
                    answer.starts_with("HTTP/1.1 200"),
                    "creating the bucket: {answer}"
                );
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("the S3 stand-in on port {port} did not answer")
    }

    /// `s3://bucket/prefix`, for `storage.url`.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// This test's prefix in the bucket.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The server's address, for `storage.s3_endpoint` (none: Amazon S3).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The stand-in's keys (none: the usual `AWS_*` variables).
    pub fn keys(&self) -> Option<(&str, &str)> {
        self.keys
            .as_ref()
            .map(|(id, secret)| (id.as_str(), secret.as_str()))
    }
}

impl Drop for TestBucket {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
