//! A TCP proxy in front of the test's Redis (or PostgreSQL) that can hold
//! traffic (a hung server) or drop it (a connection that died without a
//! word), and counts the Redis commands clients sent.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PASS: u8 = 0;
const HOLD: u8 = 1;
const DROP: u8 = 2;

/// The proxy; clients connect to [`FreezableRedis::address`].
pub struct FreezableRedis {
    pub address: String,
    mode: Arc<AtomicU8>,
    /// Everything clients sent since the last mode change, for counting.
    sent: Arc<Mutex<Vec<u8>>>,
}

impl FreezableRedis {
    /// Proxies to `upstream` (`host:port`); clients use `redis://` and the
    /// proxy's address.
    pub async fn start(upstream: String) -> Self {
        Self::start_with_scheme(upstream, "redis").await
    }

    /// Proxies to `upstream`; [`FreezableRedis::address`] is
    /// `{scheme}://host:port`.
    pub async fn start_with_scheme(upstream: String, scheme: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("{scheme}://{}", listener.local_addr().unwrap());
        let mode = Arc::new(AtomicU8::new(PASS));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (flag, log) = (mode.clone(), sent.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(
                    client_read,
                    server_write,
                    flag.clone(),
                    Some(log.clone()),
                ));
                tokio::spawn(pipe(server_read, client_write, flag.clone(), None));
            }
        });
        Self {
            address,
            mode,
            sent,
        }
    }

    /// Forwards nothing, holding it: a Redis that stopped answering.
    pub fn freeze(&self) {
        self.set(HOLD);
    }

    /// Throws everything away: connections that died without a word.
    pub fn black_hole(&self) {
        self.set(DROP);
    }

    /// Forwards again.
    pub fn thaw(&self) {
        self.set(PASS);
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
        self.sent.lock().unwrap().clear();
    }

    /// How many GETs of a key containing `fragment` clients sent since the
    /// last mode change.
    pub fn gets_since_freeze(&self, fragment: &str) -> usize {
        let command = b"$3\r\nGET\r\n";
        let sent = self.sent.lock().unwrap();
        (0..sent.len().saturating_sub(command.len()))
            .filter(|at| sent[*at..].starts_with(command))
            .filter(|at| {
                let key = &sent[at + command.len()..(at + command.len() + 160).min(sent.len())];
                String::from_utf8_lossy(key)
                    .split("\r\n")
                    .nth(1)
                    .is_some_and(|key| key.contains(fragment))
            })
            .count()
    }

    /// How many `command`s clients sent since the last mode change (RESP
    /// bulk strings: `$4\r\nMGET\r\n`).
    pub fn sent_since_freeze(&self, command: &str) -> usize {
        let needle = format!("${}\r\n{command}\r\n", command.len());
        let sent = self.sent.lock().unwrap();
        sent.windows(needle.len())
            .filter(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
            .count()
    }
}

/// Copies `from` to `to` as the mode says.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: Arc<AtomicU8>,
    log: Option<Arc<Mutex<Vec<u8>>>>,
) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let Ok(read) = from.read(&mut buffer).await else {
            return;
        };
        if read == 0 {
            return;
        }
        if let Some(log) = &log {
            log.lock().unwrap().extend_from_slice(&buffer[..read]);
        }
        while mode.load(Ordering::SeqCst) == HOLD {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if mode.load(Ordering::SeqCst) == DROP {
            continue;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
