//! The storage seam: what each storage keeps, and the settings a storage does not use.

use actix_web::{http::StatusCode, test::TestRequest, web, HttpResponse};
#[cfg(feature = "encrypted")]
use session_core::ConfigError;
use session_core::{AuthSessionBuilder, Session, SessionError};
use tests::{
    builder, call, clock, get, login,
    modes::{app, Mode},
};

type Configure = fn(AuthSessionBuilder) -> AuthSessionBuilder;

/// A session store takes every cookie setting (this crate writes its cookie) and
/// `previous_keys` (the store key's MAC is checked under them); only `encrypted`, which has no
/// claims in the cookie to seal, is refused.
#[actix_web::test]
async fn a_session_store_takes_the_cookie_settings_but_not_encrypted() {
    use actix_session::storage::CookieSessionStore;

    let c = clock();
    let cases: [(&str, Configure); 7] = [
        ("cookie_name", |b| b.cookie(|c| c.name("sid"))),
        ("secure", |b| b.cookie(|c| c.secure(false))),
        ("http_only", |b| b.cookie(|c| c.http_only(false))),
        ("same_site", |b| {
            b.cookie(|c| c.same_site(actix_web::cookie::SameSite::Strict))
        }),
        ("path", |b| b.cookie(|c| c.path("/app").secure(false))),
        ("domain", |b| {
            b.cookie(|c| c.domain("example.com").secure(false))
        }),
        ("previous_keys", |b| b.previous_keys([tests::key(1)])),
    ];
    for (setting, configure) in cases {
        let built = configure(builder(&c))
            .session_store(CookieSessionStore::default())
            .build();
        assert!(built.is_ok(), "{setting}: {:?}", built.err());
    }
    #[cfg(feature = "encrypted")]
    assert!(matches!(
        builder(&c)
            .cookie(|c| c.content(session_core::config::Content::Sealed))
            .session_store(CookieSessionStore::default())
            .build(),
        Err(ConfigError::Invalid {
            setting: "content",
            ..
        })
    ));
}

/// `POST /big/{len}` stores a value of `len` bytes under `big`.
fn big_route(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/big/{len}",
        web::post().to(|session: Session, len: web::Path<usize>| async move {
            session.insert("big", "x".repeat(len.into_inner()))?;
            Ok::<_, SessionError>(HttpResponse::Ok().finish())
        }),
    );
}

fn big(len: usize) -> TestRequest {
    TestRequest::post().uri(&format!("/big/{len}"))
}

#[actix_web::test]
async fn a_64_kib_session_fits_server_side_but_not_in_a_cookie() {
    let c = clock();
    let (server, _redis) = app(Mode::RedisSessionStore, builder(&c), big_route).await;
    let cookie = login(&server, "/login?id=alice").await;
    let res = call(&server, big(64 * 1024).cookie(cookie.clone())).await;
    assert_eq!(res.status(), StatusCode::OK, "no cookie limit server-side");
    let res = call(&server, get("/data/big").cookie(cookie)).await;
    let body: Option<String> = actix_web::test::read_body_json(res).await;
    assert_eq!(body.map(|v| v.len()), Some(64 * 1024));

    let (signed, _) = app(Mode::SignedCookie, builder(&c), big_route).await;
    let cookie = login(&signed, "/login?id=alice").await;
    let res = call(&signed, big(64 * 1024).cookie(cookie)).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<SessionError>());
    assert!(
        matches!(error, Some(SessionError::TooLarge { .. })),
        "{error:?}"
    );
}

/// `session_store(RedisSessionStore)`: this crate's cookie (its name and attributes, `remember`),
/// the state in Redis under hashed keys, a new key at login, the state deleted at logout.
#[actix_web::test]
async fn a_session_store_keeps_hashed_keys_and_honours_the_cookie_settings() {
    use actix_web::cookie::time::Duration;

    let c = clock();
    let (app, redis) = app(Mode::RedisSessionStore, builder(&c), big_route).await;
    let redis = redis.unwrap();
    let res = call(&app, tests::post("/login?id=alice&remember=false")).await;
    let transient = tests::session_cookie(&res).expect("session-core sets its own cookie");
    assert_eq!(transient.name(), tests::COOKIE);
    assert_eq!(
        transient.max_age(),
        None,
        "remember(false): a browser-session cookie"
    );
    assert_eq!(transient.secure(), Some(true));
    let res = call(&app, tests::post("/login?id=alice")).await;
    let persistent = tests::session_cookie(&res).unwrap();
    assert_eq!(persistent.max_age(), Some(Duration::days(7)));
    assert_eq!(redis.command("DBSIZE").as_deref(), Some(":2"));
    for cookie in [&transient, &persistent] {
        // The cookie is `<store key>.<MAC>`; Redis holds the key's hash only.
        let (key, _mac) = cookie.value().rsplit_once('.').expect("key.mac");
        let hashed = session_core::hashed_session_key("session:", key);
        assert_eq!(
            redis.command(&format!("EXISTS {hashed}")).as_deref(),
            Some(":1")
        );
        let raw = format!("EXISTS session:{key}");
        assert_eq!(
            redis.command(&raw).as_deref(),
            Some(":0"),
            "no raw key at rest"
        );
    }
    // A 64 KiB session, then a new login over it: a new key, the old state gone.
    let res = call(&app, big(64 * 1024).cookie(persistent.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = call(
        &app,
        tests::post("/login?id=bob").cookie(persistent.clone()),
    )
    .await;
    let bob = tests::session_cookie(&res).unwrap();
    assert_ne!(bob.value(), persistent.value());
    assert_eq!(
        redis.command("DBSIZE").as_deref(),
        Some(":2"),
        "alice's old state deleted"
    );
    // Logout deletes the state: a captured copy is anonymous.
    let res = call(&app, tests::post("/logout").cookie(bob.clone())).await;
    assert_eq!(
        tests::session_cookie(&res).map(|c| c.value().to_owned()),
        Some(String::new())
    );
    assert_eq!(redis.command("DBSIZE").as_deref(), Some(":1"));
    let res = call(&app, get("/me").cookie(bob)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Nothing reaches the store unless this app issued it: a store key without its MAC, with a
/// MAC under another secret, or with a changed MAC is anonymous, and with `CookieSessionStore`
/// (whose key *is* the state) a made-up state is never believed.
#[actix_web::test]
async fn a_store_key_without_this_apps_mac_is_never_looked_up() {
    let c = clock();
    for mode in [Mode::CookieSessionStore, Mode::RedisSessionStore] {
        let (app, _redis) = app(mode, builder(&c), |_| {}).await;
        let cookie = login(&app, "/login?id=alice&roles=admin").await;
        let res = call(&app, get("/me").cookie(cookie.clone())).await;
        assert_eq!(res.status(), StatusCode::OK, "{mode:?}");
        let value = percent_encoding::percent_decode_str(cookie.value())
            .decode_utf8()
            .unwrap()
            .into_owned();
        let (store_key, mac) = value.rsplit_once('.').unwrap();
        let mut flipped = mac.as_bytes().to_vec();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let (other, _redis2) = app_with_key(mode, tests::key(9)).await;
        let foreign = login(&other, "/login?id=alice&roles=admin").await;
        let foreign_value = percent_encoding::percent_decode_str(foreign.value())
            .decode_utf8()
            .unwrap()
            .into_owned();
        let foreign_mac = foreign_value.rsplit_once('.').unwrap().1.to_owned();
        for forged in [
            store_key.to_owned(),
            format!("{store_key}.{flipped}"),
            format!("{store_key}.{foreign_mac}"),
            format!("{store_key}."),
        ] {
            let res = call(
                &app,
                get("/me").cookie(tests::session_value(forged.clone())),
            )
            .await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{mode:?}: {forged}");
        }
    }
    // CookieSessionStore: a state written by hand (a claim of admin) without the MAC.
    let (app, _) = app(Mode::CookieSessionStore, builder(&c), |_| {}).await;
    let made_up = serde_json::json!({
        "session-core.claims": serde_json::json!({
            "sid": "AAAAAAAAAAAAAAAAAAAAAA", "sub": "mallory", "roles": ["admin"],
            "iat": tests::T0, "exp": tests::T0 + 3600, "auth_time": tests::T0,
        }).to_string()
    })
    .to_string();
    let res = call(&app, get("/me").cookie(tests::session_value(made_up))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// An app in `mode` under another secret (`key`), for cookies this app did not issue.
async fn app_with_key(
    mode: Mode,
    key: session_core::Key,
) -> (tests::TestApp, Option<tests::redis_server::RedisServer>) {
    let builder = session_core::AuthSession::builder(key).clock(clock());
    app(mode, builder, |_| {}).await
}

/// `previous_keys` in every mode: a session-store cookie whose MAC was made under a previous key
/// is accepted and re-issued under the current one (same store key); without it, refused.
#[actix_web::test]
async fn a_store_cookie_survives_a_key_rotation() {
    let c = clock();
    let redis = tests::redis_server::RedisServer::start();
    let store = || async {
        actix_session::storage::RedisSessionStore::new(redis.url())
            .await
            .unwrap()
    };
    let old = session_core::AuthSession::builder(tests::key(1)).clock(c.clone());
    let old = tests::test_app(
        old.session_store(store().await).build().unwrap(),
        tests::routes,
    )
    .await;
    let cookie = login(&old, "/login?id=alice").await;
    let rotated = session_core::AuthSession::builder(tests::key(2))
        .clock(c.clone())
        .previous_keys([tests::key(1)]);
    let rotated = tests::test_app(
        rotated.session_store(store().await).build().unwrap(),
        tests::routes,
    )
    .await;
    let res = call(&rotated, get("/me").cookie(cookie.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let reissued = tests::session_cookie(&res).expect("re-issued under the current key");
    let store_key = |value: &str| value.rsplit_once('.').unwrap().0.to_owned();
    assert_eq!(store_key(reissued.value()), store_key(cookie.value()));
    assert_ne!(reissued.value(), cookie.value());
    let res = call(&rotated, get("/me").cookie(reissued)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        tests::session_cookie(&res).is_none(),
        "nothing more to re-issue"
    );

    let unrotated = session_core::AuthSession::builder(tests::key(2)).clock(c.clone());
    let unrotated = tests::test_app(
        unrotated.session_store(store().await).build().unwrap(),
        tests::routes,
    )
    .await;
    let res = call(&unrotated, get("/me").cookie(cookie)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// The gates of [`a_write_after_a_concurrent_logout_removes_the_cookie`]: the slow handler says
/// it has loaded the session, then waits until the logout has been answered.
static LOADED: tokio::sync::Notify = tokio::sync::Notify::const_new();
static LOGGED_OUT: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// `POST /slow-write`: loads the session, waits for the logout, then changes the session.
fn slow_write_route(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/slow-write",
        web::post().to(|session: Session| async move {
            LOADED.notify_one();
            LOGGED_OUT.notified().await;
            session.insert("k", "v")?;
            Ok::<_, SessionError>(HttpResponse::Ok().finish())
        }),
    );
}

/// A request that loaded the session before a logout and writes after it: the store no longer
/// holds the session, so the writer gets its cookie removed, not a new key carrying the
/// logged-out claims (actix-session's `RedisSessionStore::update` re-saves a missing key under a
/// new one), and Redis keeps nothing.
#[actix_web::test]
async fn a_write_after_a_concurrent_logout_removes_the_cookie() {
    let c = clock();
    let (app, redis) = app(Mode::RedisSessionStore, builder(&c), slow_write_route).await;
    let redis = redis.unwrap();
    let cookie = login(&app, "/login?id=alice").await;
    let slow = call(&app, tests::post("/slow-write").cookie(cookie.clone()));
    let logout = async {
        LOADED.notified().await;
        let res = call(&app, tests::post("/logout").cookie(cookie.clone())).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(redis.command("DBSIZE").as_deref(), Some(":0"));
        LOGGED_OUT.notify_one();
    };
    let (res, ()) = tokio::join!(slow, logout);
    assert_eq!(res.status(), StatusCode::OK);
    let written = tests::session_cookie(&res).expect("the writer's cookie is removed");
    assert_eq!(written.value(), "", "a removal, not a new key");
    assert_eq!(
        redis.command("DBSIZE").as_deref(),
        Some(":0"),
        "no state came back"
    );
    let res = call(&app, get("/me").cookie(cookie)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// A writer whose session is still there keeps its key (the check above costs nothing then).
#[actix_web::test]
async fn a_write_to_a_live_session_keeps_its_key() {
    let c = clock();
    let (app, _redis) = app(Mode::RedisSessionStore, builder(&c), big_route).await;
    let cookie = login(&app, "/login?id=alice").await;
    let res = call(&app, big(10).cookie(cookie.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let written = tests::session_cookie(&res).expect("a changed session is written");
    assert_eq!(written.value(), cookie.value());
    let res = call(&app, get("/me").cookie(written)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// A session store that never answers.
struct Hung;

impl actix_session::storage::SessionStore for Hung {
    async fn load(
        &self,
        _: &actix_session::storage::SessionKey,
    ) -> Result<Option<std::collections::HashMap<String, String>>, actix_session::storage::LoadError>
    {
        std::future::pending().await
    }

    async fn save(
        &self,
        _: std::collections::HashMap<String, String>,
        _: &actix_web::cookie::time::Duration,
    ) -> Result<actix_session::storage::SessionKey, actix_session::storage::SaveError> {
        std::future::pending().await
    }

    async fn update(
        &self,
        _: actix_session::storage::SessionKey,
        _: std::collections::HashMap<String, String>,
        _: &actix_web::cookie::time::Duration,
    ) -> Result<actix_session::storage::SessionKey, actix_session::storage::UpdateError> {
        std::future::pending().await
    }

    async fn update_ttl(
        &self,
        _: &actix_session::storage::SessionKey,
        _: &actix_web::cookie::time::Duration,
    ) -> Result<(), anyhow::Error> {
        std::future::pending().await
    }

    async fn delete(&self, _: &actix_session::storage::SessionKey) -> Result<(), anyhow::Error> {
        std::future::pending().await
    }
}

/// A session store that fails or does not answer: a request carrying a session cookie gets the
/// negotiated 503 (`Retry-After`), never "anonymous" (which would send a signed-in user to the
/// login page) and never a hung request; a request without a cookie touches no store.
#[actix_web::test]
async fn a_failed_or_slow_session_store_answers_503() {
    let c = clock();
    // Failed: Redis stopped after the login.
    let (app, redis) = app(Mode::RedisSessionStore, builder(&c), |_| {}).await;
    let mut redis = redis.unwrap();
    let cookie = login(&app, "/login?id=alice").await;
    redis.stop();
    let res = call(&app, get("/me").cookie(cookie.clone())).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    let body = actix_web::test::read_body(res).await;
    assert_eq!(&body[..], br#"{"error":"session_store_unavailable"}"#);
    let res = call(&app, get("/public")).await;
    assert_eq!(res.status(), StatusCode::OK, "no cookie, no store call");
    redis.resume();

    // Slow: a store that never answers is cut off by the store timeout (the cookie's MAC is
    // under the same key, so the store is asked).
    let auth = builder(&c).session_store(Hung).build().unwrap();
    let app = tests::test_app(auth, tests::routes).await;
    let res = call(
        &app,
        get("/me")
            .cookie(cookie)
            .insert_header(("accept", "text/html")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    // A login that cannot be saved is not answered as done: the write's error is the same 503.
    let req = tests::post("/login?id=bob").to_request();
    let error = actix_web::test::try_call_service(&app, req)
        .await
        .expect_err("the write fails");
    let res = error.error_response();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    assert!(res.headers().get("set-cookie").is_none());
}
