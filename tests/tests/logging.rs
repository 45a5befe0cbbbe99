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

#[actix_web::test]
async fn refused_cookie_is_logged_at_debug_with_the_reason_never_the_value() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
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

    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
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
