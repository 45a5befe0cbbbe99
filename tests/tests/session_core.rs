//! session-core through its public API: config, codec, middleware, extractors, timeouts.

use std::{sync::Arc, time::Duration};

use actix_web::{
    cookie::SameSite,
    http::{header, StatusCode},
    test::read_body,
    web, App, HttpResponse,
};
use session_core::{
    clock::ManualClock,
    config::{Revocation, Users},
    revocation::MemoryRevocations,
    AuthSession, AuthUser, ConfigError, Key, Login, Refresh, Session, SessionError,
};
use tests::{
    auth, builder, call, clock, get, key, live::Directory, login, post, routes, serve,
    session_cookie, session_value, set_cookies, test_app, COOKIE, T0,
};

fn json_body(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON body")
}

// ---------------------------------------------------------------- config

#[test]
fn short_secret_is_refused_with_length_and_minimum() {
    let err = Key::from_bytes(&[0u8; 31]).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::SecretTooShort {
            len: 31,
            min: 32,
            ..
        }
    ));
    assert!(Key::from_bytes(&[0u8; 32]).is_ok());
}

#[test]
fn env_secret_errors_name_the_variable() {
    let missing = Key::from_env("SESSION_CORE_TEST_UNSET_VAR")
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("SESSION_CORE_TEST_UNSET_VAR") && missing.contains("32"),
        "{missing}"
    );
    std::env::set_var("SESSION_CORE_TEST_SHORT_SECRET", "short");
    let short = Key::from_env("SESSION_CORE_TEST_SHORT_SECRET")
        .unwrap_err()
        .to_string();
    assert!(
        short.contains("SESSION_CORE_TEST_SHORT_SECRET") && short.contains("at least 32"),
        "{short}"
    );
    std::env::set_var("SESSION_CORE_TEST_GOOD_SECRET", "x".repeat(32));
    assert!(Key::from_env("SESSION_CORE_TEST_GOOD_SECRET").is_ok());
}

#[test]
fn inconsistent_settings_are_refused_with_the_setting_named() {
    let c = clock();
    let day = Duration::from_secs(86_400);
    let cases: Vec<(&str, Result<AuthSession, ConfigError>)> = vec![
        (
            "same_site",
            builder(&c)
                .cookie(|c| c.same_site(SameSite::None).secure(false))
                .build(),
        ),
        (
            "absolute_timeout",
            builder(&c)
                .lifetime(|l| l.max_age(2 * day).absolute_timeout(day))
                .build(),
        ),
        (
            "max_age",
            builder(&c).lifetime(|l| l.max_age(Duration::ZERO)).build(),
        ),
        ("cookie_name", builder(&c).cookie(|c| c.name("a b")).build()),
        (
            "Users::timeout",
            builder(&c)
                .users(Users::new(Arc::new(Directory::new([]))).timeout(Duration::ZERO))
                .build(),
        ),
        (
            "Revocation::timeout",
            builder(&c)
                .revocations(Revocation::new(MemoryRevocations::new()).timeout(Duration::ZERO))
                .build(),
        ),
        ("cookie_name", builder(&c).cookie(|c| c.name("")).build()),
        ("path", builder(&c).cookie(|c| c.path("relative")).build()),
        ("path", builder(&c).cookie(|c| c.path("/a;b")).build()),
        (
            "domain",
            builder(&c).cookie(|c| c.domain("ex ample.com")).build(),
        ),
        (
            "login_url",
            builder(&c).redirects(|r| r.login_url("//evil.com")).build(),
        ),
        (
            "login_url",
            builder(&c).redirects(|r| r.login_url("")).build(),
        ),
        (
            "home_url",
            builder(&c)
                .redirects(|r| r.home_url("javascript:alert(1)"))
                .build(),
        ),
    ];
    for (setting, result) in cases {
        match result {
            Err(ConfigError::Invalid { setting: s, .. }) => assert_eq!(s, setting),
            other => panic!("{setting}: expected Invalid, got {other:?}"),
        }
    }
    assert!(builder(&c)
        .cookie(|c| c.same_site(SameSite::None).secure(true))
        .build()
        .is_ok());
    assert!(builder(&c)
        .redirects(|r| r.login_url("https://id.example.com/login"))
        .build()
        .is_ok());
}

#[test]
fn urls_accept_runtime_strings() {
    let from_config: String = format!("/{}", "signin");
    let c = clock();
    assert!(builder(&c)
        .redirects(|r| r.login_url(from_config.clone()).home_url(from_config))
        .build()
        .is_ok());
}

#[test]
fn extractors_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<AuthUser>();
    assert_send_sync::<Session>();
    assert_send_sync::<AuthSession>();
}

// ---------------------------------------------------------------- cookie attributes

#[actix_web::test]
async fn login_cookie_has_secure_defaults() {
    let app = test_app(auth(&clock()), routes).await;
    let cookie = login(&app, "/login?id=alice").await;
    assert_eq!(cookie.name(), "__Host-session");
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.domain(), None);
    assert_eq!(
        cookie.max_age(),
        Some(actix_web::cookie::time::Duration::days(7))
    );
}

#[actix_web::test]
async fn configured_attributes_are_on_issue_and_on_logout() {
    let c = clock();
    let auth = builder(&c)
        .cookie(|c| {
            c.name("sid")
                .path("/")
                .domain("example.com")
                .same_site(SameSite::Strict)
                .http_only(false)
                .secure(false)
        })
        .build()
        .unwrap();
    let app = test_app(auth, routes).await;
    let res = call(&app, post("/login?id=a")).await;
    let issued = set_cookies(&res, "sid").pop().unwrap();
    let res = call(&app, post("/logout").cookie(issued.clone())).await;
    let removal = set_cookies(&res, "sid")
        .pop()
        .expect("logout sets a removal cookie");
    for cookie in [&issued, &removal] {
        assert_eq!(cookie.domain(), Some("example.com"));
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert_eq!(cookie.http_only(), None);
        assert_eq!(cookie.secure(), None);
    }
    assert_eq!(removal.value(), "");
    assert_eq!(
        removal.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
}

// ---------------------------------------------------------------- extractors and session
// (behaviour shared with the server-side modes lives in modes.rs, one matrix for all modes)

#[actix_web::test]
async fn oversize_session_is_a_clear_error_and_nothing_changes() {
    async fn big(session: Session) -> HttpResponse {
        let err = session.insert("blob", "x".repeat(5000)).unwrap_err();
        assert!(
            matches!(err, SessionError::TooLarge { limit: 4096, .. }),
            "{err}"
        );
        assert_eq!(session.get::<String>("blob").unwrap(), None, "rolled back");
        HttpResponse::Ok().body(err.to_string())
    }
    let app = test_app(auth(&clock()), |cfg| {
        cfg.route("/big", web::post().to(big));
    })
    .await;
    let res = call(&app, post("/big")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(session_cookie(&res).is_none());
    let body = read_body(res).await;
    assert!(std::str::from_utf8(&body)
        .unwrap()
        .contains("4096-byte limit"));
}

#[actix_web::test]
async fn login_then_logout_in_one_request_sets_one_removal_cookie() {
    async fn both(
        session: Session,
        q: web::Query<std::collections::HashMap<String, String>>,
    ) -> HttpResponse {
        if q.contains_key("logout_first") {
            session.logout();
            session.login(Login::new("x")).unwrap();
        } else {
            session.login(Login::new("x")).unwrap();
            session.logout();
        }
        HttpResponse::Ok().finish()
    }
    let app = test_app(auth(&clock()), |cfg| {
        cfg.route("/both", web::post().to(both));
    })
    .await;
    let res = call(&app, post("/both")).await;
    assert_eq!(session_cookie(&res).unwrap().value(), "");
    let res = call(&app, post("/both?logout_first=1")).await;
    assert!(!session_cookie(&res).unwrap().value().is_empty());
}

#[actix_web::test]
async fn remember_false_gives_a_browser_session_cookie_still_bounded_by_exp() {
    let c = clock();
    let app = test_app(auth(&c), routes).await;
    let cookie = login(&app, "/login?id=a&remember=false").await;
    assert_eq!(cookie.max_age(), None);
    assert_eq!(cookie.expires(), None);
    c.advance(Duration::from_secs(7 * 86_400));
    let res = call(&app, get("/me").cookie(cookie.clone())).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn missing_middleware_is_a_500_naming_the_fix_in_debug_builds() {
    // Tests build with debug assertions; release builds answer an empty body (unit test
    // `error::tests::setup_mistakes_are_named_in_debug_builds_only`).
    let app = serve(App::new().configure(routes)).await;
    let res = call(&app, get("/me")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = String::from_utf8(read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("add `.wrap(auth)` to the App"), "{body}");
}

// ---------------------------------------------------------------- bad cookies

#[actix_web::test]
async fn bad_cookies_are_anonymous_never_an_error() {
    let c = clock();
    let app = test_app(auth(&c), routes).await;
    let good = login(&app, "/login?id=alice").await.value().to_owned();
    let (header_seg, rest) = good.split_once('.').unwrap();
    let (payload, mac) = rest.split_once('.').unwrap();
    let other_key = {
        let other = test_app(
            AuthSession::builder(key(8))
                .clock(c.clone())
                .build()
                .unwrap(),
            routes,
        )
        .await;
        login(&other, "/login?id=alice").await.value().to_owned()
    };
    let mut flipped = payload.to_owned().into_bytes();
    flipped[5] ^= 1;
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        ("tampered payload", format!("{header_seg}.{flipped}.{mac}")),
        (
            "tampered mac",
            format!("{header_seg}.{payload}.{}", mac.replace(&mac[..2], "AA")),
        ),
        ("unknown kid", other_key),
        ("oversize", format!("{good}{}", "A".repeat(4100))),
        ("garbage", "\u{1}not a cookie".into()),
        ("empty", String::new()),
        ("two segments", format!("{header_seg}.{payload}")),
        ("alg none", format!("eyJhbGciOiJub25lIn0.{payload}.")),
    ];
    for (what, value) in cases {
        let res = call(&app, get("/maybe").cookie(session_value(value))).await;
        assert_eq!(res.status(), StatusCode::OK, "{what}");
        assert!(session_cookie(&res).is_none(), "{what}: no cookie issued");
        assert_eq!(
            json_body(&read_body(res).await),
            serde_json::Value::Null,
            "{what}"
        );
    }
    let req = get("/maybe").insert_header((header::COOKIE, "session=%%%; ;=;"));
    assert_eq!(call(&app, req).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn duplicate_cookies_the_one_valid_session_wins_two_are_ambiguous() {
    let app = test_app(auth(&clock()), routes).await;
    let alice = login(&app, "/login?id=alice").await;
    let bob = login(&app, "/login?id=bob").await;
    let cases = [
        (
            format!("{COOKIE}=forged; {COOKIE}={}", alice.value()),
            serde_json::json!("alice"),
        ),
        (
            format!(
                "{COOKIE}=forged; {COOKIE}={}; {COOKIE}={}",
                alice.value(),
                bob.value()
            ),
            serde_json::Value::Null,
        ),
    ];
    for (header_value, want) in cases {
        let res = call(
            &app,
            get("/maybe").insert_header((header::COOKIE, header_value)),
        )
        .await;
        assert_eq!(json_body(&read_body(res).await), want);
    }
}

#[test]
fn inspect_reports_claims_or_the_reason() {
    let c = clock();
    let auth = auth(&c);
    let err = auth.inspect("a.b").unwrap_err();
    assert_eq!(err.reason(), "malformed");
    assert_eq!(
        auth.inspect(&"A".repeat(5000)).unwrap_err().reason(),
        "oversize"
    );
}

// ---------------------------------------------------------------- timeouts and refresh

#[actix_web::test]
async fn refreshed_cookie_max_age_stops_at_the_absolute_deadline() {
    let c = clock();
    let hour = Duration::from_secs(3600);
    let app = test_app(
        builder(&c)
            .lifetime(|l| {
                l.max_age(hour)
                    .absolute_timeout(2 * hour)
                    .refresh(Refresh::EveryRequest)
            })
            .build()
            .unwrap(),
        routes,
    )
    .await;
    let cookie = login(&app, "/login?id=a").await;
    c.advance(hour * 3 / 4);
    let cookie = session_cookie(&call(&app, get("/me").cookie(cookie.clone())).await)
        .expect("refreshed at 45 min");
    c.advance(hour * 3 / 4);
    let refreshed = session_cookie(&call(&app, get("/me").cookie(cookie.clone())).await)
        .expect("refreshed at 90 min");
    assert_eq!(
        refreshed.max_age(),
        Some(actix_web::cookie::time::Duration::minutes(30)),
        "90 min in, 30 min left before the absolute deadline"
    );
}

#[actix_web::test]
async fn near_expiry_refresh_happens_at_the_window_boundary() {
    let c = clock();
    let hour = Duration::from_secs(3600);
    let app = test_app(
        builder(&c)
            .lifetime(|l| l.max_age(4 * hour).refresh(Refresh::NearExpiry(hour)))
            .build()
            .unwrap(),
        routes,
    )
    .await;
    let cookie = login(&app, "/login?id=a").await;
    c.advance(3 * hour - Duration::from_secs(1));
    let res = call(&app, get("/me").cookie(cookie.clone())).await;
    assert!(
        session_cookie(&res).is_none(),
        "outside the window: no refresh"
    );
    c.advance(Duration::from_secs(1));
    let res = call(&app, get("/me").cookie(cookie.clone())).await;
    let refreshed = session_cookie(&res).expect("inside the window: refreshed");
    assert_eq!(
        refreshed.max_age(),
        Some(actix_web::cookie::time::Duration::hours(4))
    );
    let me = json_body(&read_body(call(&app, get("/me").cookie(refreshed.clone())).await).await);
    assert_eq!(me["exp"], T0 + 3 * 3600 + 4 * 3600);
    assert_eq!(me["auth"], T0, "refresh keeps the login time");
}

#[actix_web::test]
async fn every_request_and_never_policies() {
    let c = clock();
    let app = test_app(
        builder(&c)
            .lifetime(|l| l.refresh(Refresh::EveryRequest))
            .build()
            .unwrap(),
        routes,
    )
    .await;
    let cookie = login(&app, "/login?id=a").await;
    c.advance(Duration::from_secs(1));
    assert!(session_cookie(&call(&app, get("/public").cookie(cookie.clone())).await).is_some());
    let app = test_app(
        builder(&c)
            .lifetime(|l| l.refresh(Refresh::Never))
            .build()
            .unwrap(),
        routes,
    )
    .await;
    let cookie = login(&app, "/login?id=a").await;
    c.advance(Duration::from_secs(7 * 86_400 - 1));
    assert!(session_cookie(&call(&app, get("/public").cookie(cookie.clone())).await).is_none());
}

#[actix_web::test]
async fn cookie_issued_in_the_future_is_refused() {
    let c = clock();
    let app = test_app(auth(&c), routes).await;
    let cookie = login(&app, "/login?id=a").await;
    c.set(T0 - 61);
    assert_eq!(
        call(&app, get("/me").cookie(cookie.clone())).await.status(),
        StatusCode::UNAUTHORIZED
    );
    c.set(T0 - 60);
    assert_eq!(
        call(&app, get("/me").cookie(cookie.clone())).await.status(),
        StatusCode::OK
    );
}

// ---------------------------------------------------------------- key rotation

#[actix_web::test]
async fn rotated_key_is_accepted_and_reissued_under_the_current_key() {
    let c = clock();
    let old_app = test_app(
        AuthSession::builder(key(1))
            .clock(c.clone())
            .build()
            .unwrap(),
        routes,
    )
    .await;
    let old = login(&old_app, "/login?id=alice").await;
    let rotated = AuthSession::builder(key(2))
        .previous_keys([key(1)])
        .clock(c.clone())
        .build()
        .unwrap();
    let app = test_app(rotated, routes).await;
    let res = call(&app, get("/me").cookie(old.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let reissued = session_cookie(&res).expect("re-issued under the current key");
    let only_new = test_app(
        AuthSession::builder(key(2))
            .clock(c.clone())
            .build()
            .unwrap(),
        routes,
    )
    .await;
    assert_eq!(
        call(&only_new, get("/me").cookie(reissued.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&only_new, get("/me").cookie(old.clone()))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "k1 dropped: refused"
    );
    assert!(
        session_cookie(&call(&app, get("/me").cookie(reissued.clone())).await).is_none(),
        "current-key cookie is not re-issued"
    );
}

// ---------------------------------------------------------------- manual clock sanity

#[test]
fn manual_clock_is_shared() {
    let c: Arc<ManualClock> = clock();
    let shared = c.clone();
    c.advance(Duration::from_secs(5));
    assert_eq!(session_core::clock::Clock::now(&*shared), T0 + 5);
}
