//! Measures the revocation mirror, for `bench/run.sh`:
//!
//! - `revocation-mirror propagation --redis URL [--count N]`: two real servers on 127.0.0.1
//!   (each its own actix `System` on its own thread, its own [`RevocationMirror`] and Redis
//!   connections) share one Redis. N times: sign in on A, check the cookie works on B, log out on
//!   A, and poll B with the cookie until it is refused. The time from sending the logout to A to
//!   B's first refusal is one sample (an upper bound of the propagation: it includes A's handling
//!   of the logout and one request to B). Prints p50, p99 and the maximum.
//! - `revocation-mirror memory --redis URL [--entries N]`: writes N revoked session ids (this
//!   crate's 22-character ids) into Redis, starts a mirror, and reports how much the process's
//!   resident memory grew (`/proc/self/statm`), less the growth for a mirror of an empty store. It empties the
//!   database in the URL at the end (`bench/run.sh` gives it one of its own).

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    sync::{mpsc, Arc},
    time::{Duration, Instant},
};

use actix_web::{get, post, App, HttpResponse, HttpServer, Responder};
use session_core::{
    prelude::*,
    revocation::{RedisRevocations, RevocationMirror},
};

const SECRET: &[u8; 64] = b"bench-secret-bench-secret-bench-secret-bench-secret-bench-secret";

/// This process's resident memory in bytes (Linux `/proc/self/statm`; pages of 4 KiB).
fn resident() -> std::io::Result<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: i64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| std::io::Error::other("unreadable /proc/self/statm"))?;
    Ok(pages * 4096)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: revocation-mirror propagation|memory --redis redis://127.0.0.1:PORT \
                 [--count N] [--entries N]";
    let redis = arg(&args, "--redis").ok_or_else(|| std::io::Error::other(usage))?;
    match args.get(1).map(String::as_str) {
        Some("propagation") => {
            let count = arg(&args, "--count").map_or(Ok(1000), |n| n.parse());
            propagation(&redis, count.map_err(std::io::Error::other)?)
        }
        Some("memory") => {
            let entries = arg(&args, "--entries").map_or(Ok(1_000_000), |n| n.parse());
            memory(&redis, entries.map_err(std::io::Error::other)?)
        }
        _ => Err(std::io::Error::other(usage)),
    }
}

// ---------------------------------------------------------------- propagation

#[get("/hello")]
#[login_required]
async fn hello(user: AuthUser) -> impl Responder {
    format!("hello {}", user.id())
}

#[post("/login")]
async fn login(session: Session) -> Result<HttpResponse, SessionError> {
    session.login(Login::new("bench"))?;
    Ok(HttpResponse::Ok().finish())
}

#[post("/logout")]
async fn logout(session: Session) -> HttpResponse {
    session.logout();
    HttpResponse::Ok().finish()
}

/// Starts one server with its own mirror on its own thread; its address.
fn server(redis: String, prefix: &'static str) -> std::io::Result<SocketAddr> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let started = async {
                let store = RedisRevocations::connect(&redis)
                    .await
                    .map_err(std::io::Error::other)?
                    .prefix(prefix);
                let mirror = RevocationMirror::start(store)
                    .await
                    .map_err(std::io::Error::other)?;
                let auth = AuthSession::builder(Key::from_bytes(SECRET).expect("64 bytes"))
                    .cookie(|c| c.secure(false))
                    .revocations(Arc::new(mirror))
                    .build()
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let server = HttpServer::new(move || {
                    App::new()
                        .wrap(auth.clone())
                        .service((hello, login, logout))
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))?;
                let addr = server.addrs()[0];
                Ok::<_, std::io::Error>((addr, server.run()))
            };
            match started.await {
                Ok((addr, server)) => {
                    let _ = tx.send(Ok(addr));
                    let _ = server.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    rx.recv().map_err(std::io::Error::other)?
}

/// A keep-alive HTTP/1.1 connection; answers are read by their `Content-Length`.
struct Conn(TcpStream);

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        Ok(Self(stream))
    }

    /// Sends one request; the status and the session cookie it sets, if any.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
    ) -> std::io::Result<(u16, Option<String>)> {
        let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
        write!(
            self.0,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Content-Length: 0\r\n\r\n"
        )?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            self.0.read_exact(&mut byte)?;
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad answer: {head}")))?;
        let mut length = 0;
        let mut set_cookie = None;
        for line in head.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().map_err(std::io::Error::other)?;
            } else if name.eq_ignore_ascii_case("set-cookie") {
                set_cookie = value.split(';').next().map(str::to_owned);
            }
        }
        let mut body = vec![0u8; length];
        self.0.read_exact(&mut body)?;
        Ok((status, set_cookie))
    }
}

fn propagation(redis: &str, count: usize) -> std::io::Result<()> {
    let a = server(redis.to_owned(), "propagation:")?;
    let b = server(redis.to_owned(), "propagation:")?;
    let (mut to_a, mut to_b) = (Conn::open(a)?, Conn::open(b)?);
    let mut samples = Vec::with_capacity(count);
    let mut polls = 0usize;
    for _ in 0..count {
        let (status, cookie) = to_a.send("POST", "/login", None)?;
        let cookie = cookie
            .filter(|_| status == 200)
            .ok_or_else(|| std::io::Error::other("A did not sign in"))?;
        if to_b.send("GET", "/hello", Some(&cookie))?.0 != 200 {
            return Err(std::io::Error::other("B refused a fresh session"));
        }
        let sent = Instant::now();
        if to_a.send("POST", "/logout", Some(&cookie))?.0 != 200 {
            return Err(std::io::Error::other("A did not log out"));
        }
        loop {
            polls += 1;
            match to_b.send("GET", "/hello", Some(&cookie))?.0 {
                200 => {}
                401 => break,
                other => return Err(std::io::Error::other(format!("B answered {other}"))),
            }
            if sent.elapsed() > Duration::from_secs(10) {
                return Err(std::io::Error::other("not refused on B within 10 s"));
            }
        }
        samples.push(sent.elapsed());
    }
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "propagation revocations={} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} polls_per_revocation={:.2}",
        samples.len(),
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*samples.last().expect("count > 0")),
        polls as f64 / samples.len() as f64
    );
    Ok(())
}

// ---------------------------------------------------------------- memory

fn memory(redis: &str, entries: usize) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let client = redis::Client::open(redis).map_err(std::io::Error::other)?;
        let mut conn = client.get_multiplexed_async_connection().await.map_err(std::io::Error::other)?;
        let prefix = format!("memory{}:", std::process::id());
        let mut written = 0;
        while written < entries {
            let batch = (entries - written).min(10_000);
            let mut pipe = redis::pipe();
            for i in written..written + batch {
                // A 22-character base64url id, as this crate's session ids are.
                let id = format!("{:0>22}", format!("{i:x}"));
                pipe.cmd("SET")
                    .arg(format!("{prefix}sid:{id}"))
                    .arg(1)
                    .arg("EX")
                    .arg(3600)
                    .ignore();
            }
            let () = pipe.query_async(&mut conn).await.map_err(std::io::Error::other)?;
            written += batch;
        }
        let held = |prefix: String| async move {
            let before = resident()?;
            let store = RedisRevocations::connect(redis)
                .await
                .map_err(std::io::Error::other)?
                .prefix(prefix);
            let mirror = RevocationMirror::start(store).await.map_err(std::io::Error::other)?;
            // Let the loading connection's buffers go.
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            let bytes = resident()? - before;
            Ok::<_, std::io::Error>((mirror, bytes))
        };
        let (empty, base) = held(format!("empty{}:", std::process::id())).await?;
        let started = Instant::now();
        let (mirror, full) = held(prefix.clone()).await?;
        let load = started.elapsed();
        if mirror.len() != entries {
            return Err(std::io::Error::other(format!("mirror holds {} of {entries}", mirror.len())));
        }
        let bytes = full - base;
        println!(
            "memory entries={entries} resident_bytes={bytes} bytes_per_entry={:.1} mb_per_million={:.1} load_ms={}",
            bytes as f64 / entries as f64,
            bytes as f64 / entries as f64 * 1e6 / 1048576.0,
            load.as_millis()
        );
        drop((empty, mirror));
        // The keys this run wrote go with the database it was given.
        let () = redis::cmd("FLUSHDB").query_async(&mut conn).await.map_err(std::io::Error::other)?;
        Ok(())
    })
}
