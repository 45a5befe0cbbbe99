//! Logging of refused cookies. Its own test binary: `tracing`'s per-callsite interest cache is
//! process-wide, so a scoped subscriber only sees every event when no other test runs beside it.

use std::{sync::Arc, time::Duration};

use actix_web::{
    cookie::Cookie,
    http::StatusCode,
    test::{self, TestRequest},
    App,
};
use tests::{auth, clock, routes, session_cookie, COOKIE};

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
    let app = test::init_service(App::new().wrap(auth(&c)).configure(routes)).await;
    let login = TestRequest::post().uri("/login?id=alice").to_request();
    let good = session_cookie(&test::call_service(&app, login).await).expect("login cookie");
    let tampered = format!("{}x", good.value());
    let req = TestRequest::get()
        .uri("/maybe")
        .cookie(Cookie::new(COOKIE, tampered.clone()))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let login = TestRequest::post().uri("/login?id=mallory").to_request();
    let planted = session_cookie(&test::call_service(&app, login).await).expect("login cookie");
    let both = format!("{COOKIE}={}; {COOKIE}={}", good.value(), planted.value());
    let req = TestRequest::get()
        .uri("/maybe")
        .insert_header((actix_web::http::header::COOKIE, both))
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "null");
    c.advance(Duration::from_secs(8 * 86_400));
    let req = TestRequest::get()
        .uri("/maybe")
        .cookie(good.clone())
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
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
    let app = test::init_service(
        App::new()
            .wrap(auth.clone())
            .route("/me", web::get().to(|_: AuthUser| HttpResponse::Ok())),
    )
    .await;
    dir.delete("alice");
    dir.update("bob", |b| b.password_hash = "h2".into());
    for cookie in [alice, bob] {
        let req = TestRequest::get().uri("/me").cookie(cookie).to_request();
        let res = test::call_service(&app, req).await;
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
    use actix_web::http::header;
    use examples::{
        login_app::{app, auth_builder, db::Db, AppState},
        password::{Params, Passwords},
    };

    let (logs, _guard) = capture(tracing::Level::INFO);
    let dir = tempfile::tempdir().unwrap();
    let cheap = Passwords::new(Params::new(4096, 1, 1, None).unwrap());
    let state = AppState::new(Db::open(dir.path()).unwrap(), cheap);
    let auth = auth_builder(tests::key(3), true, &state).build().unwrap();
    let site = test::init_service(app(state, auth)).await;
    let mut secrets: Vec<String> =
        vec!["correct horse battery".into(), "wrong horse battery".into()];

    // One browser: its cookie and the page's CSRF token, remembered as secrets.
    let mut cookie: Option<Cookie<'static>> = None;
    macro_rules! send {
        ($req:expr) => {{
            let mut req = $req.insert_header((header::ACCEPT, "text/html"));
            if let Some(c) = &cookie {
                req = req.cookie(c.clone());
            }
            let res = test::call_service(&site, req.to_request()).await;
            if let Some(set) = res
                .headers()
                .get_all(header::SET_COOKIE)
                .filter_map(|v| Cookie::parse(v.to_str().ok()?.to_owned()).ok())
                .find(|c| c.name() == COOKIE)
            {
                if !set.value().is_empty() {
                    secrets.push(set.value().to_owned());
                }
                cookie = (!set.value().is_empty()).then(|| set.into_owned());
            }
            let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
            let token = body
                .split(r#"name="csrf_token" value=""#)
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(str::to_owned);
            if let Some(token) = &token {
                secrets.push(token.clone());
            }
            token
        }};
    }
    let form = |uri: &str, fields: &[(&str, &str)]| {
        TestRequest::post().uri(uri).set_form(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>(),
        )
    };

    let token = send!(TestRequest::get().uri("/register")).expect("register form");
    let password = "correct horse battery";
    send!(form(
        "/register",
        &[
            ("csrf_token", &token),
            ("username", "ann"),
            ("password", password),
            ("confirm_password", password),
        ]
    ));
    let token = send!(TestRequest::get().uri("/dashboard")).expect("sign-out form");
    send!(form("/logout", &[("csrf_token", &token)]));
    let token = send!(TestRequest::get().uri("/login")).expect("login form");
    send!(form(
        "/login",
        &[
            ("csrf_token", &token),
            ("username", "ann\r\nFORGED event=\"signed_in\""),
            ("password", "wrong horse battery"),
        ]
    ));
    send!(form(
        "/login",
        &[("csrf_token", "forged-token"), ("username", "ann")]
    ));
    send!(TestRequest::get().uri("/admin"));
    assert!(
        cookie.is_some(),
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
