//! A Redis key prefix per test on the shared server, and throwaway Redis
//! servers for tests that stop or restart Redis.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use deadpool_redis::redis;

use crate::TestServers;

/// A key prefix of the test's own on the shared Redis; its keys are deleted on
/// `Drop`.
#[derive(Debug)]
pub struct TestRedis {
    url: String,
    prefix: String,
}

impl TestRedis {
    /// A fresh prefix on the shared Redis.
    pub fn new() -> anyhow::Result<Self> {
        let servers = TestServers::load()?;
        Ok(Self::on(servers.redis_url))
    }

    /// A fresh prefix on the Redis at `url`.
    pub fn on(url: String) -> Self {
        Self {
            url,
            prefix: format!("weelo-test:{}:", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The Redis URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The keys under this prefix right now.
    pub fn keys(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = redis::Client::open(self.url.as_str())?
            .get_connection_with_timeout(Duration::from_secs(1))?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut conn)?;
        Ok(keys)
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        // The server may be gone (tests that stop Redis): then nothing is left.
        if let Ok(keys) = self.keys()
            && !keys.is_empty()
            && let Ok(client) = redis::Client::open(self.url.as_str())
            && let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1))
        {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// A `redis-server` of the test's own on a free port; killed on `Drop`.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self { port, child: None };
        server.resume()?;
        Ok(server)
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// How many times this server has run `command` (lowercase), from
    /// `INFO commandstats`.
    pub fn calls(&self, command: &str) -> anyhow::Result<u64> {
        let mut conn =
            redis::Client::open(self.url())?.get_connection_with_timeout(Duration::from_secs(1))?;
        let info: String = redis::cmd("INFO").arg("commandstats").query(&mut conn)?;
        let prefix = format!("cmdstat_{command}:calls=");
        Ok(info
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .and_then(|rest| rest.split(',').next())
            .map_or(Ok(0), str::parse)?)
    }

    /// Kills the server (as a crash would); the port stays reserved for
    /// [`RedisServer::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty.
    pub fn resume(&mut self) -> anyhow::Result<()> {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        self.wait_until_answering()
    }

    fn wait_until_answering(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = redis::Client::open(self.url())?;
        while Instant::now() < deadline {
            if let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(200))
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("redis-server on port {} did not answer", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
