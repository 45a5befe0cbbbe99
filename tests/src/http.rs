//! Tests against real servers on 127.0.0.1: a free port to start one on, and a minimal async
//! HTTP/1.1 client.

use std::{
    net::{SocketAddr, TcpListener},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A response: status, the `session` cookie's `name=value` if one was set, the body.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Set-Cookie` header values.
    pub set_cookies: Vec<String>,
    /// Body as text.
    pub body: String,
}

impl Reply {
    /// The `name=value` pair of the `Set-Cookie` named `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies
            .iter()
            .filter_map(|c| c.split(';').next())
            .find(|pair| pair.split_once('=').is_some_and(|(n, _)| n == name))
            .map(str::to_owned)
    }
}

/// Sends `method path` with an optional `Cookie` header; bounded by a 5 s timeout.
pub async fn request(addr: SocketAddr, method: &str, path: &str, cookie: Option<&str>) -> Reply {
    tokio::time::timeout(Duration::from_secs(5), send(addr, method, path, cookie))
        .await
        .unwrap_or_else(|_| panic!("{method} {path} on {addr} took over 5 s"))
}

async fn send(addr: SocketAddr, method: &str, path: &str, cookie: Option<&str>) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n{cookie}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let set_cookies = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    Reply {
        status,
        set_cookies,
        body: body.to_owned(),
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
