//! Logging of refused cookies. Its own test binary: `tracing`'s per-callsite interest cache is
//! process-wide, so a scoped subscriber only sees every event when no other test runs beside it.

use std::{sync::Arc, time::Duration};

use actix_web::{http::StatusCode, test::read_body};
use tests::{
    auth, call, clock, get, login, routes, serve, session_value, test_app, Client, Reply, COOKIE,
};

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every event up to `level` for as long as the guard lives (this thread only).
fn capture(level: tracing::Level) -> (Captured, tracing::subscriber::DefaultGuard) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[actix_web::test]
async fn refused_cookie_is_logged_at_debug_with_the_reason_never_the_value() {
    let (logs, _guard) = capture(tracing::Level::DEBUG);
    let c = clock();
    let app = test_app(auth(&c), routes).await;
    let good = login(&app, "/login?id=alice").await;
    let tampered = format!("{}x", good.value());
    let req = get("/maybe").cookie(session_value(tampered.clone()));
    assert_eq!(call(&app, req).await.status(), StatusCode::OK);
    let planted = login(&app, "/login?id=mallory").await;
    let both = format!("{COOKIE}={}; {COOKIE}={}", good.value(), planted.value());
    let req = get("/maybe").insert_header((actix_web::http::header::COOKIE, both));
    assert_eq!(read_body(call(&app, req).await).await, "null");
    c.advance(Duration::from_secs(8 * 86_400));
    let req = get("/maybe").cookie(good.clone());
    assert_eq!(call(&app, req).await.status(), StatusCode::OK);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("DEBUG") && text.contains("reason=\"bad_mac\""),
        "{text}"
    );
    assert!(text.contains("reason=\"expired\""), "{text}");
    assert!(text.contains("reason=\"ambiguous\""), "{text}");
    assert!(
        !text.contains(good.value()) && !text.contains(&tampered[..40]),
        "cookie values never logged"
    );
}

#[actix_web::test]
async fn ended_live_sessions_are_logged_with_their_reason() {
    use actix_web::{web, HttpResponse};
    use session_core::{AuthUser, Login};
    use tests::live::{Account, Directory};

    let (logs, _guard) = capture(tracing::Level::DEBUG);
    let c = clock();
    let dir = Arc::new(Directory::new([
        Account::new("alice", &[]),
        Account::new("bob", &[]),
    ]));
    let auth = tests::builder(&c).users(Arc::clone(&dir)).build().unwrap();
    let mint = |id: &str| {
        session_core::test_util::signed_in_cookie(&auth, Login::user(&dir.get(id).unwrap()))
            .unwrap()
    };
    let (alice, bob) = (mint("alice"), mint("bob"));
    let app = test_app(auth.clone(), |cfg| {
        cfg.route("/me", web::get().to(|_: AuthUser| HttpResponse::Ok()));
    })
    .await;
    dir.delete("alice");
    dir.update("bob", |b| b.password_hash = "h2".into());
    for cookie in [alice, bob] {
        let res = call(&app, get("/me").cookie(cookie)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("reason=\"user_gone\""), "{text}");
    assert!(text.contains("reason=\"credentials_changed\""), "{text}");
    assert!(!text.contains("h2"), "fingerprints never logged: {text}");
}

/// The login app's security events, as its log shows them: the kinds and fields are there, an
/// account name typed with a line break stays on its line, and no password, cookie value or
/// CSRF token is ever written.
#[actix_web::test]
async fn the_login_app_logs_security_events_without_secrets() {
    use examples::{
        login_app::{app, auth_builder, db::Db, AppState, Throttles},
        password::{Params, Passwords},
    };

    let (logs, _guard) = capture(tracing::Level::INFO);
    let dir = tempfile::tempdir().unwrap();
    let cheap = Passwords::new(Params::new(4096, 1, 1, None).unwrap());
    let throttles =
        Throttles::new(&tests::key(3), Arc::new(session_core::clock::SystemClock)).unwrap();
    let state = AppState::new(Db::open(dir.path()).unwrap(), cheap, throttles);
    let auth = auth_builder(tests::key(3), true, &state).build().unwrap();
    let site = serve(app(state, auth)).await;
    let mut secrets: Vec<String> =
        vec!["correct horse battery".into(), "wrong horse battery".into()];

    // One browser; its cookies and the pages' CSRF tokens are remembered as secrets.
    let mut browser = Client::new(&site).accept("text/html");
    let mut seen = |page: Reply| {
        let cookie = page.set_cookie.as_ref().map(|c| c.value().to_owned());
        secrets.extend(cookie.filter(|v| !v.is_empty()));
        let token = page.csrf_token();
        secrets.extend(token.clone());
        token
    };

    let token = seen(browser.get("/register").await).expect("register form");
    let password = "correct horse battery";
    seen(
        browser
            .post_form(
                "/register",
                &[
                    ("csrf_token", &token),
                    ("username", "ann"),
                    ("password", password),
                    ("confirm_password", password),
                ],
            )
            .await,
    );
    let token = seen(browser.get("/dashboard").await).expect("sign-out form");
    seen(
        browser
            .post_form("/logout", &[("csrf_token", &token)])
            .await,
    );
    let token = seen(browser.get("/login").await).expect("login form");
    seen(
        browser
            .post_form(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("username", "ann\r\nFORGED event=\"signed_in\""),
                    ("password", "wrong horse battery"),
                ],
            )
            .await,
    );
    seen(
        browser
            .post_form(
                "/login",
                &[("csrf_token", "forged-token"), ("username", "ann")],
            )
            .await,
    );
    seen(browser.get("/admin").await);
    assert!(
        browser.cookie.is_some(),
        "the browser still holds an anonymous session"
    );

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let security: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("session_core::security"))
        .collect();
    let has = |needle: &str| security.iter().any(|l| l.contains(needle));
    assert!(has("event=\"signed_in\" user="), "{text}");
    assert!(has("event=\"signed_out\" user="), "{text}");
    assert!(has("event=\"csrf_failed\""), "{text}");
    assert!(
        has("event=\"denied\" reason=\"unauthenticated\" path=/admin"),
        "{text}"
    );
    assert!(
        has(r#"event="sign_in_failed" account=ann\r\nFORGED event=\"signed_in\""#),
        "escaped on one line: {text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("FORGED")),
        "no forged line: {text}"
    );
    assert_eq!(
        security.iter().filter(|l| l.contains("signed_in")).count(),
        2
    );
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{secret:?} was logged:\n{text}"
        );
    }
    assert!(
        secrets.len() >= 5,
        "cookies and tokens were seen: {secrets:?}"
    );
}

// ---- a revocation store on a Redis that can lose its keys ----------------------------------------

fn text(logs: &Captured) -> String {
    String::from_utf8(logs.0.lock().unwrap().clone()).unwrap()
}

/// `--maxmemory-policy volatile-lru` (and the harness's default of no persistence): one warning
/// event per setting at connect, the same risks from `durability`, and `require_durable`
/// refuses to start. A server with AOF on and `noeviction` passes without a warning.
#[actix_web::test]
async fn a_redis_that_can_evict_or_lose_revocations_yields_a_warning_naming_the_setting() {
    use session_core::revocation::RedisRevocations;
    use tests::redis_server::RedisServer;

    let (logs, _guard) = capture(tracing::Level::WARN);
    let risky = RedisServer::start_with(&["--maxmemory-policy", "volatile-lru"]);
    let store = RedisRevocations::connect(&risky.url()).await.unwrap();
    let logged = text(&logs);
    assert!(
        logged.contains("event=\"revocation_store_not_durable\"")
            && logged.contains("setting=\"maxmemory-policy\" value=volatile-lru"),
        "{logged}"
    );
    assert!(logged.contains("setting=\"appendonly\""), "{logged}");
    let risks: Vec<_> = store.durability().await.unwrap();
    let settings: Vec<_> = risks
        .iter()
        .map(|r| (r.setting, r.value.as_str()))
        .collect();
    assert_eq!(
        settings,
        [
            ("maxmemory-policy", "volatile-lru"),
            ("appendonly", "\"no\", save \"\"")
        ]
    );
    let refused = store.require_durable().await.unwrap_err().to_string();
    assert!(
        refused.contains("maxmemory-policy is volatile-lru") && refused.contains("appendonly"),
        "{refused}"
    );

    logs.0.lock().unwrap().clear();
    let durable = RedisServer::start_with(&["--appendonly", "yes"]);
    let store = RedisRevocations::connect(&durable.url()).await.unwrap();
    assert_eq!(store.durability().await.unwrap(), []);
    assert!(store.require_durable().await.is_ok());
    let logged = text(&logs);
    assert!(!logged.contains("revocation_store_not_durable"), "{logged}");
}

/// The server comes back with another setting: the store checks again after its reconnection,
/// and so does a mirror after it re-subscribes.
#[actix_web::test]
async fn the_settings_are_checked_again_after_every_reconnection() {
    use session_core::revocation::{RedisRevocations, RevocationMirror, Revocations};
    use tests::redis_server::RedisServer;

    async fn until(logs: &Captured, what: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !text(logs).contains(what) {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: {}",
                text(logs)
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let (logs, _guard) = capture(tracing::Level::WARN);
    let durable = ["--appendonly", "yes"];
    let mut redis = RedisServer::start_with(&durable);
    let store = RedisRevocations::connect(&redis.url()).await.unwrap();
    assert!(!text(&logs).contains("revocation_store_not_durable"));
    redis.stop();
    redis.resume_with(&["--appendonly", "yes", "--maxmemory-policy", "allkeys-lru"]);
    // The first call after the restart may fail while the connection is re-established.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.is_revoked("sid", "alice", 0, 0).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "Redis did not come back"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    until(&logs, "value=allkeys-lru").await;

    logs.0.lock().unwrap().clear();
    let mut redis = RedisServer::start_with(&durable);
    let store = RedisRevocations::connect(&redis.url()).await.unwrap();
    let mirror = RevocationMirror::builder(store)
        .bound(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    assert!(!text(&logs).contains("revocation_store_not_durable"));
    redis.stop();
    redis.resume_with(&["--appendonly", "yes", "--maxmemory-policy", "volatile-ttl"]);
    until(&logs, "value=volatile-ttl").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !mirror.is_synced() {
        assert!(
            std::time::Instant::now() < deadline,
            "the mirror did not re-sync"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}
