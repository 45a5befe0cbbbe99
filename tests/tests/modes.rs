//! The behaviour every storage mode shares, as one matrix: each scenario runs with the signed
//! cookie, and with `session_store` over actix-session's cookie store and over its Redis store (a
//! real `redis-server`).

use std::time::Duration;

use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
    web, HttpResponse,
};
use serde_json::{json, Value};
use session_core::{
    authorize, login_required, require_role, revocation::MemoryRevocations, skip_if_authenticated,
    AuthUser, Login, Refresh, Require, Rule, Session, SessionError,
};
use tests::{
    builder, clock, get,
    modes::{app, Mode},
    post, Client, T0,
};

macro_rules! matrix {
    ($($scenario:ident),* $(,)?) => {
        mod signed_cookie {
            $(#[actix_web::test] async fn $scenario() { super::$scenario(tests::modes::Mode::SignedCookie).await })*
        }
        mod session_store_cookie {
            $(#[actix_web::test] async fn $scenario() { super::$scenario(tests::modes::Mode::CookieSessionStore).await })*
        }
        mod session_store_redis {
            $(#[actix_web::test] async fn $scenario() { super::$scenario(tests::modes::Mode::RedisSessionStore).await })*
        }
    };
}

matrix!(
    signed_in_user_is_extracted_with_claims,
    anonymous_json_request_gets_401,
    anonymous_html_request_is_redirected_to_login_with_next,
    optional_user_never_fails,
    every_login_gets_a_new_session_id,
    anonymous_data_survives_login_and_logout_clears_everything,
    data_insert_get_remove_clear,
    typed_data_is_read_from_auth_user,
    idle_timeout_ends_the_session,
    refresh_never_extends_past_the_absolute_deadline,
    scope_rules_and_deny_responses,
    attribute_guards_work_unchanged,
    parallel_requests_straddling_a_refresh_and_a_renew_all_succeed,
);

fn none(_: &mut web::ServiceConfig) {}

async fn signed_in_user_is_extracted_with_claims(mode: Mode) {
    let (app, _redis) = app(mode, builder(&clock()), none).await;
    let mut jar = Client::new(&app);
    jar.post("/login?id=alice&roles=admin,editor").await;
    let me = jar.get("/me").await.json();
    assert_eq!(me["id"], "alice");
    assert_eq!(me["roles"], json!(["admin", "editor"]));
    assert_eq!(
        (me["iat"].clone(), me["auth"].clone()),
        (json!(T0), json!(T0))
    );
    assert_eq!(me["exp"], T0 + 7 * 86_400);
    assert_eq!(me["sid"].as_str().unwrap().len(), 22);
}

async fn anonymous_json_request_gets_401(mode: Mode) {
    let (app, _redis) = app(mode, builder(&clock()), none).await;
    let res = Client::new(&app).get("/me").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json(), json!({"error": "unauthenticated"}));
}

async fn anonymous_html_request_is_redirected_to_login_with_next(mode: Mode) {
    let (app, _redis) = app(mode, builder(&clock()), none).await;
    let req =
        get("/me?tab=1").insert_header((header::ACCEPT, "text/html,application/xhtml+xml;q=0.9"));
    let res = Client::new(&app).send(req).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location.as_deref(), Some("/login?next=/me%3Ftab%3D1"));
}

async fn optional_user_never_fails(mode: Mode) {
    let (app, _redis) = app(mode, builder(&clock()), none).await;
    let mut jar = Client::new(&app);
    assert_eq!(jar.get("/maybe").await.json(), Value::Null);
    jar.post("/login?id=bob").await;
    assert_eq!(jar.get("/maybe").await.json(), "bob");
}

async fn every_login_gets_a_new_session_id(mode: Mode) {
    let (app, _redis) = app(mode, builder(&clock()), none).await;
    let mut jar = Client::new(&app);
    jar.post("/login?id=alice").await;
    let first = jar.get("/me").await.json()["sid"].clone();
    let before = jar.cookie.clone();
    jar.post("/login?id=alice").await;
    let second = jar.get("/me").await.json()["sid"].clone();
    assert_ne!(first, second);
    assert_ne!(before, jar.cookie, "the cookie changes with the session id");
}

async fn anonymous_data_survives_login_and_logout_clears_everything(mode: Mode) {
    let (app, _redis) = app(mode, builder(&clock()), none).await;
    let mut jar = Client::new(&app);
    jar.post("/data?k=csrf&v=t0ken").await;
    assert!(jar.cookie.is_some(), "insert starts an anonymous session");
    assert_eq!(jar.get("/maybe").await.json(), Value::Null);
    jar.post("/login?id=alice").await;
    assert_eq!(jar.get("/data/csrf").await.json(), "t0ken");
    jar.post("/logout").await;
    assert_eq!(jar.get("/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(jar.get("/data/csrf").await.json(), Value::Null);
}

async fn data_insert_get_remove_clear(mode: Mode) {
    let (app, _redis) = app(mode, builder(&clock()), none).await;
    let mut jar = Client::new(&app);
    jar.post("/login?id=alice").await;
    for (req, want) in [
        (post("/data?k=a&v=1"), None),
        (post("/data?k=b&v=2"), None),
        (get("/data/a"), Some(json!("1"))),
        (TestRequest::delete().uri("/data/a"), Some(json!(true))),
        (TestRequest::delete().uri("/data/a"), Some(json!(false))),
        (get("/data/a"), Some(Value::Null)),
        (get("/data/b"), Some(json!("2"))),
        (post("/clear"), None),
        (get("/data/b"), Some(Value::Null)),
        (get("/me"), None),
    ] {
        let res = jar.send(req).await;
        assert_eq!(res.status, StatusCode::OK);
        if let Some(want) = want {
            assert_eq!(res.json(), want);
        }
    }
}

async fn typed_data_is_read_from_auth_user(mode: Mode) {
    async fn set(session: Session) -> Result<HttpResponse, SessionError> {
        session.login(Login::new("u").data("prefs", json!({"n": 3})))?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn read(user: AuthUser) -> Result<HttpResponse, SessionError> {
        #[derive(serde::Deserialize)]
        struct Prefs {
            n: u32,
        }
        let prefs: Prefs = user.get("prefs")?.expect("set at login");
        let wrong_type_is_an_error = user.get::<String>("prefs").is_err();
        Ok(HttpResponse::Ok().body(format!("{} {wrong_type_is_an_error}", prefs.n)))
    }
    fn extra(cfg: &mut web::ServiceConfig) {
        cfg.route("/set", web::post().to(set))
            .route("/read", web::get().to(read));
    }
    let (app, _redis) = app(mode, builder(&clock()), extra).await;
    let mut jar = Client::new(&app);
    jar.post("/set").await;
    assert_eq!(jar.get("/read").await.body, "3 true");
}

async fn idle_timeout_ends_the_session(mode: Mode) {
    let c = clock();
    let auth =
        builder(&c).lifetime(|l| l.max_age(Duration::from_secs(3600)).refresh(Refresh::Never));
    let (app, _redis) = app(mode, auth, none).await;
    let mut jar = Client::new(&app);
    jar.post("/login?id=a").await;
    c.advance(Duration::from_secs(3599));
    assert_eq!(jar.get("/me").await.status, StatusCode::OK);
    c.advance(Duration::from_secs(1));
    assert_eq!(jar.get("/me").await.status, StatusCode::UNAUTHORIZED);
}

async fn refresh_never_extends_past_the_absolute_deadline(mode: Mode) {
    let c = clock();
    let hour = Duration::from_secs(3600);
    let auth = builder(&c).lifetime(|l| {
        l.max_age(hour)
            .absolute_timeout(2 * hour)
            .refresh(Refresh::EveryRequest)
    });
    let (app, _redis) = app(mode, auth, none).await;
    let mut jar = Client::new(&app);
    jar.post("/login?id=a").await;
    for minutes in [30, 60, 90, 110] {
        c.set(T0 + minutes * 60);
        let me = jar.get("/me").await.json();
        assert_eq!(me["auth"], T0, "at {minutes} min");
        // The request above refreshed: the next one sees the new expiry.
        let me = jar.get("/me").await.json();
        assert_eq!(
            me["exp"],
            (T0 + minutes * 60 + 3600).min(T0 + 7200),
            "at {minutes} min"
        );
    }
    c.set(T0 + 7200);
    assert_eq!(jar.get("/me").await.status, StatusCode::UNAUTHORIZED);
}

async fn scope_rules_and_deny_responses(mode: Mode) {
    fn extra(cfg: &mut web::ServiceConfig) {
        let nested = Rule::any([
            Rule::role("admin"),
            Rule::all([Rule::role("editor"), Rule::not(Rule::role("suspended"))]),
        ]);
        cfg.service(
            web::scope("/guarded")
                .wrap(Require::rule(nested))
                .route("", web::get().to(HttpResponse::Ok)),
        );
    }
    let (app, _redis) = app(mode, builder(&clock()), extra).await;
    let res = Client::new(&app).get("/guarded").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    for (roles, want) in [
        ("admin", StatusCode::OK),
        ("editor", StatusCode::OK),
        ("editor,suspended", StatusCode::FORBIDDEN),
        ("viewer", StatusCode::FORBIDDEN),
    ] {
        let mut jar = Client::new(&app);
        jar.post(&format!("/login?id=u&roles={roles}")).await;
        assert_eq!(jar.get("/guarded").await.status, want, "{roles}");
    }
}

async fn attribute_guards_work_unchanged(mode: Mode) {
    #[login_required]
    async fn dashboard(user: AuthUser) -> String {
        format!("hi {}", user.id())
    }
    #[require_role("admin")]
    async fn admin() -> &'static str {
        "admin"
    }
    #[authorize(authenticated, fresh = 60)]
    async fn sensitive() -> &'static str {
        "sensitive"
    }
    #[skip_if_authenticated(redirect = "/dashboard")]
    async fn login_form() -> &'static str {
        "form"
    }
    fn extra(cfg: &mut web::ServiceConfig) {
        cfg.route("/dashboard", web::get().to(dashboard))
            .route("/admin", web::get().to(admin))
            .route("/sensitive", web::get().to(sensitive))
            .route("/login-form", web::get().to(login_form));
    }
    let c = clock();
    let (app, _redis) = app(mode, builder(&c), extra).await;
    let mut jar = Client::new(&app);
    assert_eq!(jar.get("/dashboard").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(jar.get("/login-form").await.status, StatusCode::OK);
    jar.post("/login?id=ann&roles=editor").await;
    assert_eq!(jar.get("/dashboard").await.body, "hi ann");
    assert_eq!(jar.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(jar.get("/sensitive").await.status, StatusCode::OK);
    let res = jar.get("/login-form").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location.as_deref(), Some("/dashboard"));
    c.advance(Duration::from_secs(61));
    let res = jar.get("/sensitive").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json(), json!({"error": "reauthenticate"}));
}

/// Server-side with Redis: logout purges the state, so a copy of the cookie is worthless.
#[actix_web::test]
async fn redis_store_logout_purges_a_captured_copy() {
    let (app, _redis) = app(Mode::RedisSessionStore, builder(&clock()), none).await;
    let mut jar = Client::new(&app);
    jar.post("/login?id=alice").await;
    let mut copy = jar.clone();
    assert_eq!(copy.get("/me").await.status, StatusCode::OK);
    jar.post("/logout").await;
    assert_eq!(copy.get("/me").await.status, StatusCode::UNAUTHORIZED);
}

/// actix-session's cookie store: the state travels in the cookie, so logout
/// cannot make a captured copy invalid (SECURITY.md says so) unless a revocation store is
/// configured, which refuses the ended session id.
#[actix_web::test]
async fn cookie_store_logout_leaves_a_captured_copy_valid_unless_revocations_are_on() {
    let cases: [(Option<MemoryRevocations>, StatusCode); 2] = [
        (None, StatusCode::OK),
        (Some(MemoryRevocations::new()), StatusCode::UNAUTHORIZED),
    ];
    for (revocations, after_logout) in cases {
        let on = revocations.is_some();
        let mut config = builder(&clock());
        if let Some(store) = revocations {
            config = config.revocations(store);
        }
        let (app, _) = app(Mode::CookieSessionStore, config, none).await;
        let mut jar = Client::new(&app);
        jar.post("/login?id=alice").await;
        let mut copy = jar.clone();
        assert_eq!(copy.get("/me").await.status, StatusCode::OK);
        jar.post("/logout").await;
        assert!(jar.cookie.is_none(), "logout removed the cookie");
        let status = copy.get("/me").await.status;
        assert_eq!(status, after_logout, "revocations: {on}");
    }
}

/// Server-side: the cookie carries only the store's key and its MAC, never the claims.
#[actix_web::test]
async fn redis_store_cookie_carries_no_claims() {
    let (app, _redis) = app(Mode::RedisSessionStore, builder(&clock()), none).await;
    let mut jar = Client::new(&app);
    jar.post("/login?id=alice-the-user&roles=admin").await;
    let value = jar
        .cookie
        .as_ref()
        .expect("session cookie")
        .value()
        .to_owned();
    let (key, mac) = value.split_once('.').expect("key.mac");
    assert!(!mac.contains('.'), "not a JWS: {value}");
    assert_eq!(mac.len(), 43, "a base64url HMAC-SHA256: {value}");
    assert!(!key.contains("alice") && !mac.contains("alice"));
}

/// 50 requests sent at once with one cookie, under a policy that re-issues on every request, one
/// of them a renew (a new session id): every request succeeds, every cookie the responses set is
/// valid (so whichever the client keeps, it stays signed in), and the renewed one still is a
/// minute later.
async fn parallel_requests_straddling_a_refresh_and_a_renew_all_succeed(mode: Mode) {
    let c = clock();
    let auth = builder(&c).lifetime(|l| l.refresh(Refresh::EveryRequest));
    let (app, _redis) = app(mode, auth, none).await;
    let cookie = tests::login(&app, "/login?id=alice").await;
    c.advance(Duration::from_secs(60));
    let requests = (0..50).map(|i| {
        let req = if i == 20 { post("/renew") } else { get("/me") };
        tests::call(&app, req.cookie(cookie.clone()))
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut issued = Vec::new();
    for (i, res) in responses.iter().enumerate() {
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
        issued.extend(tests::session_cookie(res).map(|cookie| (i, cookie)));
    }
    let renewed = issued
        .iter()
        .find(|(i, _)| *i == 20)
        .map(|(_, cookie)| cookie.clone())
        .expect("the renew sets a cookie");
    for (i, cookie) in issued {
        assert!(!cookie.value().is_empty(), "request {i} removed the cookie");
        let res = tests::call(&app, get("/me").cookie(cookie)).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "the cookie set by request {i}"
        );
    }
    c.advance(Duration::from_secs(60));
    let res = tests::call(&app, get("/me").cookie(renewed)).await;
    assert_eq!(res.status(), StatusCode::OK, "the renewed session lives on");
}

/// 50 requests at once across a key rotation (the cookie signed under the previous key, each
/// response re-issuing it under the current one) all succeed, and every re-issued cookie is
/// valid. Cookie storage only: a session store's cookie is not signed by the key.
#[actix_web::test]
async fn parallel_requests_across_a_key_rotation_all_succeed() {
    let c = clock();
    let old = tests::test_app(builder(&c).build().unwrap(), tests::routes).await;
    let cookie = tests::login(&old, "/login?id=alice").await;
    let rotated = session_core::AuthSession::builder(tests::key(9))
        .clock(c.clone())
        .previous_keys([tests::key(7)]);
    let (app, _) = app(Mode::SignedCookie, rotated, none).await;
    let requests = (0..50).map(|_| tests::call(&app, get("/me").cookie(cookie.clone())));
    let responses = futures_util::future::join_all(requests).await;
    for (i, res) in responses.iter().enumerate() {
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
        let reissued = tests::session_cookie(res).expect("re-issued under the current key");
        assert_ne!(reissued.value(), cookie.value());
        let res = tests::call(&app, get("/me").cookie(reissued)).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "the cookie set by request {i}"
        );
    }
}
