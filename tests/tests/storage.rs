//! The storage seam: what each storage keeps, and the settings a storage does not use.

use actix_web::{http::StatusCode, test::TestRequest, web, HttpResponse};
use session_core::{AuthSessionBuilder, ConfigError, Session, SessionError};
use tests::{
    builder, call, clock, get, login,
    modes::{app, Mode},
};

type Configure = fn(AuthSessionBuilder) -> AuthSessionBuilder;

#[test]
fn server_side_refuses_the_cookie_settings_it_would_ignore() {
    let c = clock();
    let cases: [(&str, Configure); 7] = [
        ("cookie_name", |b| b.cookie_name("sid")),
        ("secure", |b| b.secure(false)),
        ("http_only", |b| b.http_only(false)),
        ("same_site", |b| {
            b.same_site(actix_web::cookie::SameSite::Strict)
        }),
        ("path", |b| b.path("/app")),
        ("domain", |b| b.domain("example.com")),
        ("previous_keys", |b| b.previous_keys([tests::key(1)])),
    ];
    for (setting, configure) in cases {
        match configure(builder(&c)).server_side().build() {
            Err(ConfigError::Invalid {
                setting: named,
                reason,
            }) => {
                assert_eq!(named, setting);
                assert!(reason.contains("server-side"), "{setting}: {reason}");
            }
            other => panic!("{setting}: {:?}", other.map(|_| ())),
        }
        assert!(
            configure(builder(&c)).build().is_ok(),
            "{setting} applies to the cookie"
        );
    }
    assert!(builder(&c).server_side().build().is_ok());
    #[cfg(feature = "encrypted")]
    assert!(matches!(
        builder(&c).encrypted(true).server_side().build(),
        Err(ConfigError::Invalid {
            setting: "encrypted",
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
    let (server, _redis) = app(Mode::ActixRedisStore, builder(&c), big_route).await;
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

#[actix_web::test]
async fn redis_keeps_only_hashes_of_session_keys() {
    use actix_session::{storage::RedisSessionStore, SessionMiddleware};
    use actix_web::{cookie::Key as CookieKey, test, App};

    let redis = tests::redis_server::RedisServer::start();
    let store = RedisSessionStore::builder(redis.url())
        .cache_keygen(|key| session_core::hashed_session_key("session:", key))
        .build()
        .await
        .unwrap();
    let c = clock();
    let auth = builder(&c).server_side().build().unwrap();
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .wrap(SessionMiddleware::new(store, CookieKey::from(&[3u8; 64])))
            .configure(tests::routes),
    )
    .await;
    let res = test::call_service(
        &app,
        TestRequest::post().uri("/login?id=alice").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(redis.command("DBSIZE").as_deref(), Some(":1"));
    let reply = redis.reply("RANDOMKEY").unwrap();
    let key = reply.last().unwrap();
    let hash = key
        .strip_prefix("session:")
        .unwrap_or_else(|| panic!("the configured prefix: {reply:?}"));
    assert_eq!(hash.len(), 64, "{key}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
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
        let hashed = session_core::hashed_session_key("session:", cookie.value());
        assert_eq!(
            redis.command(&format!("EXISTS {hashed}")).as_deref(),
            Some(":1")
        );
        let raw = format!("EXISTS session:{}", cookie.value());
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

#[actix_web::test]
async fn a_session_store_refuses_what_cannot_work() {
    use actix_session::storage::{CookieSessionStore, RedisSessionStore};

    let c = clock();
    let redis = tests::redis_server::RedisServer::start();
    let store = || async { RedisSessionStore::new(redis.url()).await.unwrap() };
    let refused = |built: Result<session_core::AuthSession, ConfigError>| match built {
        Err(ConfigError::Invalid { setting, reason }) => (setting, reason),
        Ok(_) => panic!("accepted"),
        Err(e) => panic!("{e}"),
    };
    let (setting, reason) = refused(
        builder(&c)
            .session_store(CookieSessionStore::default())
            .build(),
    );
    assert_eq!(setting, "session_store");
    assert!(reason.contains("CookieSessionStore"), "{reason}");
    let (setting, _) = refused(
        builder(&c)
            .session_store(store().await)
            .server_side()
            .build(),
    );
    assert_eq!(setting, "session_store");
    let (setting, reason) = refused(
        builder(&c)
            .previous_keys([tests::key(1)])
            .session_store(store().await)
            .build(),
    );
    assert_eq!(setting, "previous_keys");
    assert!(reason.contains("store's key"), "{reason}");
    assert!(builder(&c).session_store(store().await).build().is_ok());
}
