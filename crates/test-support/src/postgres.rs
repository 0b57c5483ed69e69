//! A PostgreSQL server of the test's own, on a free port and a temporary
//! data folder, that takes connections over TLS only, with a self-signed
//! certificate the test makes (openssl). The machine's shared server is
//! never touched. PostgreSQL refuses to run as root, so as root the server
//! runs as the `postgres` user.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The server; stopped and its folder removed on `Drop`.
#[derive(Debug)]
pub struct PostgresServer {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

fn postgres_bin() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no PostgreSQL server binaries under /usr/lib/postgresql"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs `program args` as the server's user.
fn run_as_server_user(program: &Path, args: &[&str]) -> anyhow::Result<()> {
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    let status = command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "{} {args:?} failed", program.display());
    Ok(())
}

impl PostgresServer {
    /// Starts a server that accepts TLS connections only (`hostssl`, trust
    /// for user `weelo`), with a certificate for 127.0.0.1 and localhost.
    /// Returns it with the certificate's PEM path.
    pub fn start_tls_only() -> anyhow::Result<Self> {
        let bin = postgres_bin()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("weelo-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let data = dir.join("data");
        let server = Self { port, dir, bin };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&server.dir)
                .status()?;
            anyhow::ensure!(status.success(), "chown of the data folder failed");
        }
        let data_arg = data.to_string_lossy().into_owned();
        run_as_server_user(
            &server.bin.join("initdb"),
            &["-D", &data_arg, "-U", "weelo", "--auth=trust", "--no-sync"],
        )?;
        let cert = data.join("server.crt");
        let key = data.join("server.key");
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "openssl could not make a certificate");
        if is_root() {
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&cert)
                .arg(&key)
                .status()?;
        }
        Command::new("chmod").arg("600").arg(&key).status()?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n",
        )?;
        let options = format!(
            "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
             -c ssl=on -c fsync=off"
        );
        run_as_server_user(
            &server.bin.join("pg_ctl"),
            &["-D", &data_arg, "-o", &options, "-w", "-t", "30", "start"],
        )?;
        Ok(server)
    }

    /// The URL of database `postgres` as user `weelo`, with `query` appended
    /// (`sslmode=require`…).
    pub fn url(&self, query: &str) -> String {
        format!("postgres://weelo@127.0.0.1:{}/postgres?{query}", self.port)
    }

    /// The server's certificate (PEM), to check it against.
    pub fn certificate(&self) -> PathBuf {
        self.dir.join("data").join("server.crt")
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.dir.join("data").to_string_lossy().into_owned();
        let _ = run_as_server_user(
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
