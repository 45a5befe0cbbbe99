//! Hardening: cookie tossing (prefixed names, ambiguous sessions, dead cookies never hiding live
//! ones, stray bytes), and what a login carries over from the session before it.

use std::sync::Arc;

use actix_web::{
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    test::{read_body, read_body_json},
    web, HttpResponse,
};
use session_core::{
    csrf, revocation::MemoryRevocations, AuthSession, AuthSessionBuilder, ConfigError, Login,
    Session, SessionError,
};
use tests::{
    auth, builder, call, clock, get, key, login, post, routes, session_cookie, test_app, COOKIE,
};

/// A change to the test builder.
type Configure = fn(AuthSessionBuilder) -> AuthSessionBuilder;

#[test]
fn prefixed_names_must_keep_the_browsers_rules() {
    let cases: [(&str, Configure, Option<&str>); 8] = [
        ("default", |b| b, None),
        (
            "__Host- over http",
            |b| b.cookie(|c| c.name("__Host-s").secure(false)),
            Some("requires secure(true)"),
        ),
        (
            "__Host- with a domain",
            |b| b.cookie(|c| c.name("__Host-s").domain("example.com")),
            Some("cannot have a domain"),
        ),
        (
            "__Host- under a path",
            |b| b.cookie(|c| c.name("__Host-s").path("/app")),
            Some("requires the path \"/\""),
        ),
        (
            "__Secure- over http",
            |b| b.cookie(|c| c.name("__Secure-s").secure(false)),
            Some("__Secure-"),
        ),
        (
            "__Secure- with a domain",
            |b| b.cookie(|c| c.name("__Secure-s").domain("example.com")),
            None,
        ),
        (
            "plain name over http",
            |b| b.cookie(|c| c.name("sid").secure(false)),
            None,
        ),
        (
            "default name with a domain",
            |b| b.cookie(|c| c.domain("example.com")),
            None,
        ),
    ];
    let c = clock();
    for (what, configure, refused) in cases {
        let built = configure(builder(&c)).build();
        match (built, refused) {
            (Ok(_), None) => {}
            (Err(ConfigError::Invalid { setting, reason }), Some(why)) => {
                assert_eq!(setting, "cookie_name", "{what}");
                assert!(reason.contains(why), "{what}: {reason}");
            }
            (Ok(_), Some(why)) => panic!("{what}: accepted, expected {why:?}"),
            (Err(e), _) => panic!("{what}: refused: {e}"),
        }
    }
}

#[actix_web::test]
async fn the_default_name_is_host_prefixed_only_for_host_only_secure_cookies() {
    let c = clock();
    let cases: [(Configure, &str); 4] = [
        (|b| b, "__Host-session"),
        (|b| b.cookie(|c| c.secure(false)), "session"),
        (|b| b.cookie(|c| c.path("/app")), "session"),
        (|b| b.cookie(|c| c.domain("example.com")), "session"),
    ];
    for (configure, want) in cases {
        let auth = configure(builder(&c)).build().unwrap();
        let app = test_app(auth, routes).await;
        let res = call(&app, post("/login?id=a")).await;
        let names: Vec<_> = tests::set_cookies(&res, want)
            .into_iter()
            .map(|c| c.name().to_owned())
            .collect();
        assert_eq!(names, [want]);
    }
}

#[actix_web::test]
async fn two_different_valid_sessions_make_the_request_anonymous_and_nothing_is_reissued() {
    let c = clock();
    // Rotation makes the attacker's cookie one that would be re-issued if it were chosen.
    let current = builder(&c).previous_keys([key(8)]).build().unwrap();
    let app = test_app(current.clone(), routes).await;
    let victim = login(&app, "/login?id=victim").await;
    let old_key = AuthSession::builder(key(8))
        .clock(c.clone())
        .build()
        .unwrap();
    let old_app = test_app(old_key, routes).await;
    let attacker = login(&old_app, "/login?id=attacker").await;
    for order in [[&victim, &attacker], [&attacker, &victim]] {
        let header = format!(
            "{COOKIE}={}; {COOKIE}={}",
            order[0].value(),
            order[1].value()
        );
        let res = call(&app, get("/maybe").insert_header((header::COOKIE, header))).await;
        assert!(session_cookie(&res).is_none(), "nothing re-issued");
        assert_eq!(read_body(res).await, "null", "anonymous");
    }
}

#[actix_web::test]
async fn a_revoked_cookie_earlier_in_the_header_never_hides_a_valid_one() {
    let c = clock();
    let auth = builder(&c)
        .revocations(Arc::new(MemoryRevocations::new()))
        .build()
        .unwrap();
    let app = test_app(auth, routes).await;
    let planted = login(&app, "/login?id=attacker").await;
    let res = call(&app, post("/logout").cookie(planted.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let victim = login(&app, "/login?id=victim").await;
    let header = format!("{COOKIE}={}; {COOKIE}={}", planted.value(), victim.value());
    let res = call(&app, get("/maybe").insert_header((header::COOKIE, header))).await;
    assert_eq!(read_body(res).await, "\"victim\"");
}

#[actix_web::test]
async fn a_stray_non_utf8_byte_in_another_cookie_does_not_discard_the_session() {
    let c = clock();
    let app = test_app(auth(&c), routes).await;
    let alice = login(&app, "/login?id=alice").await;
    let mut bytes = b"theme=d\xffrk; ".to_vec();
    bytes.extend_from_slice(format!("{COOKIE}={}; lang=", alice.value()).as_bytes());
    bytes.push(0xe9);
    let value = HeaderValue::from_bytes(&bytes).expect("obs-text is a valid header byte");
    let res = call(&app, get("/maybe").insert_header((header::COOKIE, value))).await;
    assert_eq!(read_body(res).await, "\"alice\"");
}

/// `POST /form` starts an anonymous session with a CSRF token and a note; `POST /signin/{id}`
/// logs in; `GET /state` shows the note and the token.
fn carry_over_app(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/form",
        web::post().to(|session: Session| async move {
            session.insert("note", "from before")?;
            csrf::token(&session).map(|t| HttpResponse::Ok().body(t))
        }),
    )
    .route(
        "/signin/{id}",
        web::post().to(|session: Session, id: web::Path<String>| async move {
            session.login(Login::new(id.into_inner()))?;
            Ok::<_, SessionError>(HttpResponse::Ok().finish())
        }),
    )
    .route(
        "/state",
        web::get().to(|session: Session| async move {
            let note: Option<String> = session.get("note")?;
            let token: Option<String> = session.get(csrf::SESSION_KEY)?;
            Ok::<_, SessionError>(HttpResponse::Ok().json((note, token)))
        }),
    );
}

#[actix_web::test]
async fn a_login_keeps_anonymous_data_but_never_its_csrf_token() {
    let c = clock();
    let app = test_app(auth(&c), carry_over_app).await;
    let res = call(&app, post("/form")).await;
    let anonymous = session_cookie(&res).unwrap();
    let planted_token = String::from_utf8(read_body(res).await.to_vec()).unwrap();
    let res = call(&app, post("/signin/victim").cookie(anonymous)).await;
    let signed_in = session_cookie(&res).unwrap();
    let (note, token): (Option<String>, Option<String>) =
        read_body_json(call(&app, get("/state").cookie(signed_in)).await).await;
    assert_eq!(
        note.as_deref(),
        Some("from before"),
        "anonymous data is kept"
    );
    let token = token.expect("a token is still there");
    assert_ne!(
        token, planted_token,
        "the token known before the login is gone"
    );
    assert_eq!(token.len(), planted_token.len());
}

#[actix_web::test]
async fn a_login_over_another_users_session_starts_empty() {
    let c = clock();
    let app = test_app(auth(&c), carry_over_app).await;
    let attacker = login(&app, "/signin/attacker").await;
    let res = call(&app, post("/form").cookie(attacker)).await;
    let attacker = session_cookie(&res).unwrap();
    let res = call(&app, post("/signin/victim").cookie(attacker)).await;
    let victim = session_cookie(&res).unwrap();
    let state: (Option<String>, Option<String>) =
        read_body_json(call(&app, get("/state").cookie(victim)).await).await;
    assert_eq!(state, (None, None), "nothing of the attacker's session");
}
