//! A soak of the login app (`examples::login_app`) over a real Redis revocation store that is
//! killed and restarted twice while seven browsers of six users sign in, read, sign out, sign in
//! again and change passwords. Redis runs with an append-only file, as README and SECURITY.md
//! require of a revocation store, on 127.0.0.1, started by the test.
//!
//! What must hold: no 5xx but the documented 503 (`Retry-After`) while Redis is down; no sign-out
//! (logout, password change, renewed session) is undone by the restarts; every session that
//! should survive does; resident memory stays flat. Its own test binary, so the memory figure is
//! this test's alone.

use std::{sync::Arc, time::Duration};

use actix_web::{cookie::Cookie, http::StatusCode};
use examples::{
    login_app::{app, auth_builder, db::Db, AppState, Throttles},
    password::{Params, Passwords},
};
use session_core::{clock::ManualClock, revocation::RedisRevocations, Key};
use tests::{
    login_site::{browser, Forms},
    redis_server::RedisServer,
    serve, Client, Reply, T0,
};

const ROUNDS: usize = 30;
/// Redis is killed at the start of these rounds and restarted three rounds later.
const OUTAGES: [usize; 2] = [8, 19];
const OUTAGE_ROUNDS: usize = 3;

/// Resident memory of this process, in KiB (`VmRSS` of /proc/self/status).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A status the app may answer: anything but a 5xx, or, while Redis is down, the documented 503
/// with `Retry-After`.
fn check(reply: &Reply, down: bool, what: &str) {
    if reply.status == StatusCode::SERVICE_UNAVAILABLE && down {
        assert_eq!(reply.retry_after.as_deref(), Some("1"), "{what}");
        return;
    }
    assert!(
        !reply.status.is_server_error(),
        "{what}: {} (Redis down: {down})",
        reply.status
    );
}

/// Whether `cookie` alone still opens the dashboard.
async fn accepted(app: &tests::TestApp, cookie: &Cookie<'static>) -> bool {
    let mut probe = browser(app);
    probe.cookie = Some(cookie.clone());
    probe.get("/dashboard").await.status == StatusCode::OK
}

#[actix_web::test]
async fn the_login_app_loses_nothing_across_two_redis_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let key = Key::from_bytes(&[12; 32]).unwrap();
    let mut redis = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let revocations = RedisRevocations::connect(&redis.url()).await.unwrap();
    let throttles = Throttles::new(&key, clock.clone()).unwrap();
    // Argon2id at 64 KiB: the soak is about sessions, and multi-MiB hashes on the blocking
    // threads would make the resident-memory figure the allocator's, not the app's.
    let passwords = Passwords::new(Params::new(64, 1, 1, None).unwrap());
    let state = AppState::new(Db::open(dir.path()).unwrap(), passwords, throttles);
    let auth = auth_builder(key, false, &state)
        .clock(clock.clone())
        .revocations(Arc::new(revocations))
        .build()
        .unwrap();
    let app = serve(app(state, auth)).await;

    // Six users, each in a browser of their own address; user 1 also on a second device.
    let mut browsers: Vec<(String, String, Client<'_>)> = Vec::new();
    for i in 0..6 {
        let (name, password) = (format!("user{i}"), format!("correct horse {i}"));
        let mut b = browser(&app).from_ip(&format!("10.0.0.{}", i + 1));
        assert!(b
            .register(&name, &password)
            .await
            .redirects_to("/dashboard"));
        browsers.push((name, password, b));
    }
    let mut phone = browser(&app).from_ip("10.0.1.1");
    let (name1, pw1) = (browsers[1].0.clone(), browsers[1].1.clone());
    assert!(phone.login(&name1, &pw1).await.redirects_to("/dashboard"));
    browsers.push((name1, pw1, phone));

    // Cookies that must never be accepted again, and how many requests were answered 503.
    let mut dead: Vec<(String, Cookie<'static>)> = Vec::new();
    let (mut unavailable, mut answered) = (0, 0);
    let (mut rss_start, mut rss_mid) = (0, 0);
    let mut down = false;
    for round in 0..ROUNDS {
        if OUTAGES.contains(&round) {
            redis.stop();
            down = true;
        }
        if OUTAGES.iter().any(|&at| round == at + OUTAGE_ROUNDS) {
            redis.resume();
            down = false;
        }
        if round == 4 {
            rss_start = rss_kib();
        }
        if round == ROUNDS / 2 {
            rss_mid = rss_kib();
        }
        clock.advance(Duration::from_secs(1));
        let mut phone_ended = false;
        for (i, (name, password, b)) in browsers.iter_mut().enumerate() {
            if i == 6 && phone_ended {
                continue; // signed out by the password change; handled below
            }
            let what = format!("round {round}, browser {i} ({name})");
            let read = b.get("/dashboard").await;
            check(&read, down, &what);
            answered += 1;
            if read.status == StatusCode::SERVICE_UNAVAILABLE {
                unavailable += 1;
                continue;
            }
            if down {
                continue; // a read only: the outage's other answers are covered by the tests
            }
            assert_eq!(read.status, StatusCode::OK, "{what}: signed in");
            match (round + i) % 6 {
                // Sign out and in again: the signed-out cookie is dead from now on.
                3 => {
                    let before = b.cookie.clone().unwrap();
                    let out = b.logout().await;
                    check(&out, down, &what);
                    assert!(out.redirects_to("/?signed_out=1"), "{what}: {out:?}");
                    dead.push((format!("{what}: logged out"), before));
                    let back = b.login(name, password).await;
                    assert!(back.redirects_to("/dashboard"), "{what}: {back:?}");
                }
                // User 1 changes the password on the laptop (browser 1): the laptop's old
                // cookie (renewed away) and the phone's session (browser 6) are dead.
                5 if i == 1 && round < ROUNDS - 6 => {
                    let before = b.cookie.clone().unwrap();
                    let new = format!("{password} {round}");
                    let fields = [
                        ("current_password", password.as_str()),
                        ("new_password", new.as_str()),
                        ("confirm_password", new.as_str()),
                    ];
                    let changed = b.submit("/settings", "/settings", &fields).await;
                    assert!(
                        changed.redirects_to("/settings?changed=1"),
                        "{what}: {changed:?}"
                    );
                    dead.push((format!("{what}: renewed at a password change"), before));
                    *password = new;
                    phone_ended = true;
                }
                _ => {}
            }
        }
        // The phone learns the new password when its session was ended.
        let (phone_name, laptop_password) = (browsers[1].0.clone(), browsers[1].1.clone());
        let (_, phone_password, phone) = &mut browsers[6];
        if !down && *phone_password != laptop_password {
            let ended = phone.cookie.clone().unwrap();
            assert!(
                !accepted(&app, &ended).await,
                "round {round}: the phone was signed out"
            );
            dead.push((
                format!("round {round}: phone after a password change"),
                ended,
            ));
            let back = phone.login(&phone_name, &laptop_password).await;
            assert!(back.redirects_to("/dashboard"), "round {round}: {back:?}");
            *phone_password = laptop_password;
        }
    }
    let rss_end = rss_kib();

    assert!(!down, "Redis is back");
    assert!(unavailable > 0, "the outages were seen");
    assert!(
        dead.len() >= 20,
        "enough sign-outs to mean something: {}",
        dead.len()
    );
    for (what, cookie) in &dead {
        assert!(
            !accepted(&app, cookie).await,
            "{what}: accepted after the restarts"
        );
    }
    for (name, _, b) in &mut browsers {
        assert_eq!(
            b.get("/dashboard").await.status,
            StatusCode::OK,
            "{name} survives"
        );
    }
    eprintln!(
        "soak: {answered} reads, {unavailable} answered 503 during 2 outages, {} sign-outs \
         checked dead, resident memory {rss_start} KiB at round 4, {rss_mid} KiB at round {}, \
         {rss_end} KiB at the end",
        dead.len(),
        ROUNDS / 2
    );
    assert!(
        rss_end < rss_start + 4 * 1024,
        "resident memory grew from {rss_start} KiB to {rss_end} KiB"
    );
}
