//! A real `redis-server` on a free 127.0.0.1 port, started and stopped by the tests themselves.

use std::{
    ffi::OsStr,
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::free_port;

/// A `redis-server` child process; killed on drop.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Extra `redis-server` arguments, used again by [`RedisServer::resume`].
    args: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port. Panics with install instructions when `redis-server` is
    /// missing: these tests must not be skipped silently.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra `redis-server` arguments (e.g. `["--maxmemory-policy",
    /// "volatile-lru"]`), which override the defaults of [`spawn`].
    pub fn start_with(args: &[&str]) -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("session-core-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir for redis");
        let mut server = Self {
            port,
            dir,
            child: None,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        server.resume();
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server (as a crash would: SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and waits until it answers PING.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let args: Vec<&OsStr> = self.args.iter().map(OsStr::new).collect();
        self.child = Some(spawn(self.port, &self.dir, &args));
        wait_for_ping(self.port, Duration::from_secs(10));
    }

    /// Starts the server again on the same port with other extra arguments (kept for the next
    /// [`RedisServer::resume`]).
    pub fn resume_with(&mut self, args: &[&str]) {
        self.args = args.iter().map(|a| (*a).to_owned()).collect();
        self.resume();
    }

    /// Sends one inline command and returns the first reply line (e.g. `+PONG`, `:42`).
    pub fn command(&self, command: &str) -> Option<String> {
        self.reply(command)?.into_iter().next()
    }

    /// Every line of the raw RESP reply to one inline command.
    pub fn reply(&self, command: &str) -> Option<Vec<String>> {
        reply(self.port, command)
    }
}

/// Starts `redis-server` on 127.0.0.1:`port` without persistence, its files in `dir`, with
/// `extra` arguments. Panics with install instructions when `redis-server` is missing: these
/// tests must not be skipped silently.
pub(crate) fn spawn(port: u16, dir: &Path, extra: &[&OsStr]) -> Child {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start redis-server ({e}): install it with `apt-get install -y redis-server` \
                 (.ci/run does this)"
            )
        })
}

/// Waits until the server on `port` answers PING; panics after `within`.
pub(crate) fn wait_for_ping(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while reply(port, "PING")
        .and_then(|r| r.into_iter().next())
        .as_deref()
        != Some("+PONG")
    {
        assert!(
            Instant::now() < deadline,
            "redis-server on port {port} did not answer PING within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every line of the raw RESP reply of the server on `port` to one inline command (read until
/// the reply is complete for the simple, integer, bulk and flat-array replies these tests ask
/// for).
pub(crate) fn reply(port: u16, command: &str) -> Option<Vec<String>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if complete(&raw) {
            break;
        }
    }
    let reply = String::from_utf8_lossy(&raw);
    Some(reply.lines().map(str::to_owned).collect())
}

/// Whether `raw` holds one whole reply.
fn complete(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    let Some((head, rest)) = text.split_once("\r\n") else {
        return false;
    };
    let len = |s: &str| s.parse::<i64>().unwrap_or(0);
    match head.as_bytes().first() {
        Some(b'$') => {
            let n = len(&head[1..]);
            n < 0 || rest.len() >= n as usize + 2
        }
        Some(b'*') => {
            let n = len(&head[1..]).max(0) as usize;
            rest.matches("\r\n").count() >= 2 * n
        }
        _ => true,
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
