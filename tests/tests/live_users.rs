//! Live users: with a user store, guards, `Require` and extractors judge the record loaded for
//! the request, not the login-time snapshot in the cookie.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_web::{
    cookie::Cookie,
    get,
    http::{header, StatusCode},
    post,
    test::{read_body, read_body_json},
    web, HttpRequest, HttpResponse,
};
use base64::Engine as _;
use session_core::{
    clock::ManualClock, config::Users, events::SecurityEvent, prelude::*,
    revocation::RevocationError, test_util::signed_in_cookie, AuthSessionBuilder, Current,
    UserStore,
};
use tests::{
    builder, call, clock, get,
    live::{Account, Directory, Health},
    login, post, session_cookie, test_app, TestApp, COOKIE,
};

/// The directory every test starts with: alice is an admin, bob a member.
fn directory() -> Arc<Directory> {
    Arc::new(Directory::new([
        Account::new("alice", &["admin"]),
        Account::new("bob", &["member"]),
    ]))
}

/// The test builder (key 7, manual clock) with `dir` as the user store.
fn live(c: &Arc<ManualClock>, dir: &Arc<Directory>) -> AuthSessionBuilder {
    builder(c).users(Arc::clone(dir))
}

/// Async checks that ran, across the test binary.
static ASYNC_CHECKS: AtomicUsize = AtomicUsize::new(0);

/// The allow-list an async check reads from app state.
struct AllowList(Vec<String>);

async fn allow_listed(user: AuthUser, req: HttpRequest) -> bool {
    ASYNC_CHECKS.fetch_add(1, Ordering::SeqCst);
    let list = req.app_data::<web::Data<AllowList>>().expect("app data");
    list.0.iter().any(|id| id == user.id())
}

/// Signs in the directory's account `id` with `Login::user` (id + fingerprint).
#[post("/login/{id}")]
async fn sign_in(
    session: Session,
    dir: web::Data<Arc<Directory>>,
    id: web::Path<String>,
) -> Result<HttpResponse, SessionError> {
    let account = dir.get(&id).expect("known account");
    session.login(Login::user(&account))?;
    Ok(HttpResponse::Ok().finish())
}

/// Changes the signed-in user's password hash and keeps this session signed in.
#[post("/password")]
#[login_required]
async fn change_password(
    session: Session,
    account: Current<Account>,
    dir: web::Data<Arc<Directory>>,
) -> actix_web::Result<HttpResponse> {
    dir.update(&account.id, |a| a.password_hash.push('!'));
    session
        .sign_out_other_devices()
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().finish())
}

#[get("/me")]
async fn me(user: AuthUser, record: Current<Account>) -> HttpResponse {
    assert_eq!(user.record::<Account>(), Some(&*record));
    HttpResponse::Ok().json(serde_json::json!({ "id": user.id(), "roles": user.roles() }))
}

#[get("/maybe")]
async fn maybe(record: Option<Current<Account>>) -> HttpResponse {
    HttpResponse::Ok().json(record.map(|r| r.id.clone()))
}

#[get("/admin")]
#[login_required]
#[require_role("admin")]
#[authorize(any(role = "admin", role = "root"))]
async fn admin(
    user: AuthUser,
    record: Current<Account>,
    again: Option<Current<Account>>,
) -> HttpResponse {
    assert_eq!(user.id(), record.id);
    assert!(again.is_some());
    HttpResponse::Ok().body("admin")
}

#[get("/allow-listed")]
#[authorize(check = allow_listed)]
async fn allow_listed_page() -> HttpResponse {
    HttpResponse::Ok().body("in")
}

#[get("/admin-or-listed")]
#[authorize(any(role = "admin", check = allow_listed))]
async fn admin_or_listed() -> HttpResponse {
    HttpResponse::Ok().body("in")
}

/// Every route above, `/staff/...` behind `Require::role("admin")`, and the allow-list (bob).
async fn app(auth: AuthSession, dir: &Arc<Directory>) -> TestApp {
    let dir = Arc::clone(dir);
    test_app(auth, |cfg| {
        cfg.app_data(web::Data::new(dir))
            .app_data(web::Data::new(AllowList(vec!["bob".into()])))
            .service(sign_in)
            .service(change_password)
            .service(me)
            .service(maybe)
            .service(admin)
            .service(allow_listed_page)
            .service(admin_or_listed)
            .service(web::scope("/staff").wrap(Require::role("admin")).route(
                "/page",
                web::get().to(|_: Current<Account>, _: AuthUser| async { "staff" }),
            ));
    })
    .await
}

fn is_removal(cookie: &Cookie<'_>) -> bool {
    cookie.value().is_empty() && cookie.max_age() == Some(actix_web::cookie::time::Duration::ZERO)
}

#[actix_web::test]
async fn the_user_is_loaded_once_per_request_for_guards_scope_and_extractors() {
    let (c, dir) = (clock(), directory());
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let cookie = login(&app, "/login/alice").await;
    assert_eq!(dir.loads(), 0, "a login loads nothing");
    let before = dir.loads();
    let res = call(&app, get("/admin").cookie(cookie.clone())).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "three guards, three extractors"
    );
    assert_eq!(dir.loads() - before, 1);
    let before = dir.loads();
    assert_eq!(
        call(&app, get("/staff/page").cookie(cookie.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(dir.loads() - before, 1, "Require plus two extractors");
    let before = dir.loads();
    assert_eq!(call(&app, get("/maybe")).await.status(), StatusCode::OK);
    assert_eq!(dir.loads(), before, "anonymous requests load nothing");
}

#[actix_web::test]
async fn a_demotion_is_refused_on_the_next_request_and_a_promotion_admitted_without_login() {
    let (c, dir) = (clock(), directory());
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let alice = login(&app, "/login/alice").await;
    let bob = login(&app, "/login/bob").await;
    assert_eq!(
        call(&app, get("/admin").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&app, get("/admin").cookie(bob.clone())).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, get("/staff/page").cookie(bob.clone()))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    dir.update("alice", |a| a.roles.clear());
    dir.update("bob", |a| a.roles = vec!["admin".into()]);
    assert_eq!(
        call(&app, get("/admin").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, get("/staff/page").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, get("/admin").cookie(bob.clone())).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&app, get("/staff/page").cookie(bob.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    let roles: serde_json::Value =
        read_body_json(call(&app, get("/me").cookie(bob.clone())).await).await;
    assert_eq!(
        roles["roles"],
        serde_json::json!(["admin"]),
        "AuthUser::roles is live"
    );
}

#[actix_web::test]
async fn the_cookie_roles_are_ignored_with_a_store() {
    let (c, dir) = (clock(), directory());
    let auth = live(&c, &dir).build().unwrap();
    // A cookie minted with a role the directory does not give bob.
    let bob = dir.get("bob").unwrap();
    let cookie = signed_in_cookie(&auth, Login::user(&bob).roles(["admin"])).unwrap();
    let app = app(auth, &dir).await;
    assert_eq!(
        call(&app, get("/admin").cookie(cookie.clone()))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let alice = signed_in_cookie(
        &live(&c, &dir).build().unwrap(),
        Login::user(&dir.get("alice").unwrap()),
    )
    .unwrap();
    assert_eq!(
        call(&app, get("/admin").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::OK,
        "test_util cookie"
    );
}

#[actix_web::test]
async fn a_deleted_users_session_ends_and_its_cookie_is_removed() {
    let (c, dir) = (clock(), directory());
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let bob = login(&app, "/login/bob").await;
    assert_eq!(
        call(&app, get("/me").cookie(bob.clone())).await.status(),
        StatusCode::OK
    );
    dir.delete("bob");
    let res = call(&app, get("/me").cookie(bob.clone())).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        is_removal(&session_cookie(&res).expect("removal")),
        "cookie removed"
    );
    let res = call(&app, get("/maybe").cookie(bob.clone())).await;
    assert_eq!(read_body(res).await, "null", "anonymous");
}

#[actix_web::test]
async fn with_a_user_cache_the_session_that_changed_the_password_stays_signed_in() {
    let (c, dir) = (clock(), directory());
    let auth = live(&c, &dir)
        .users(Users::new(Arc::clone(&dir)).cache_ttl(Duration::from_secs(60)))
        .build()
        .unwrap();
    let app = app(auth, &dir).await;
    let laptop = login(&app, "/login/alice").await;
    let phone = login(&app, "/login/alice").await;
    // The worker caches alice's record, old password hash included.
    assert_eq!(
        call(&app, get("/me").cookie(phone.clone())).await.status(),
        StatusCode::OK
    );
    let res = call(&app, post("/password").cookie(laptop)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let laptop = session_cookie(&res).expect("re-bound to the new hash");
    // The cached record disagrees with the re-bound cookie: it is loaded again rather than
    // trusted to end the session.
    let loads = dir.loads();
    assert_eq!(
        call(&app, get("/me").cookie(laptop.clone())).await.status(),
        StatusCode::OK,
        "the session that changed the password stays"
    );
    assert_eq!(dir.loads(), loads + 1, "one fresh load");
    assert_eq!(
        call(&app, get("/me").cookie(laptop)).await.status(),
        StatusCode::OK
    );
    assert_eq!(dir.loads(), loads + 1, "then the cache again");
    assert_eq!(
        call(&app, get("/me").cookie(phone)).await.status(),
        StatusCode::UNAUTHORIZED,
        "the other device is out, cache or not"
    );
}

#[actix_web::test]
async fn a_password_change_ends_the_other_sessions_and_keeps_this_one() {
    let (c, dir) = (clock(), directory());
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let laptop = login(&app, "/login/alice").await;
    let phone = login(&app, "/login/alice").await;
    let res = call(&app, post("/password").cookie(laptop.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let laptop_now = session_cookie(&res).expect("the changing session is re-issued");
    assert_ne!(laptop_now.value(), laptop.value());

    assert_eq!(
        call(&app, get("/me").cookie(laptop_now.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    let res = call(&app, get("/me").cookie(phone.clone())).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the other device is out"
    );
    assert!(is_removal(&session_cookie(&res).expect("removal")));
    assert_eq!(
        call(&app, get("/me").cookie(laptop.clone())).await.status(),
        StatusCode::UNAUTHORIZED,
        "the laptop's old cookie carries the old fingerprint too"
    );
}

/// `POST /elsewhere` → `Session::sign_out_other_devices` without a credential change first:
/// 409 with the error's name, 200 when it signed the others out.
#[post("/elsewhere")]
async fn elsewhere(session: Session) -> HttpResponse {
    match session.sign_out_other_devices().await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(RevocationError::CredentialsUnchanged) => {
            HttpResponse::Conflict().body("credentials_unchanged")
        }
        Err(RevocationError::NotConfigured) => HttpResponse::Conflict().body("not_configured"),
        Err(RevocationError::NotSignedIn) => HttpResponse::Conflict().body("not_signed_in"),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

#[actix_web::test]
async fn signing_out_other_devices_refuses_what_would_leave_them_signed_in() {
    let (c, dir) = (clock(), directory());
    let register = |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(Arc::clone(&dir)))
            .service(sign_in)
            .service(me)
            .service(elsewhere);
    };
    let refused = |body: &'static str| {
        move |res: actix_web::dev::ServiceResponse| async move {
            assert_eq!(res.status(), StatusCode::CONFLICT, "{body}");
            assert!(session_cookie(&res).is_none(), "{body}: nothing re-issued");
            assert_eq!(read_body(res).await, body.as_bytes());
        }
    };

    // Only a user store, and the record's fingerprint is the session's: the others would stay.
    let app = test_app(live(&c, &dir).build().unwrap(), register).await;
    let alice = login(&app, "/login/alice").await;
    let phone = login(&app, "/login/alice").await;
    refused("credentials_unchanged")(call(&app, post("/elsewhere").cookie(alice.clone())).await)
        .await;
    assert_eq!(
        call(&app, get("/me").cookie(phone)).await.status(),
        StatusCode::OK,
        "nothing changed"
    );
    refused("not_signed_in")(call(&app, post("/elsewhere")).await).await;

    // Neither a user store nor a revocation store: nothing can sign the others out.
    let app = test_app(builder(&c).build().unwrap(), register).await;
    let bare = login(&app, "/login/alice").await;
    refused("not_configured")(call(&app, post("/elsewhere").cookie(bare)).await).await;

    // The user store no longer has the user: the session ended before the handler ran.
    let app = test_app(live(&c, &dir).build().unwrap(), register).await;
    let bob = login(&app, "/login/bob").await;
    dir.delete("bob");
    let res = call(&app, post("/elsewhere").cookie(bob)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(is_removal(&session_cookie(&res).expect("removal")));
    assert_eq!(read_body(res).await, "not_signed_in".as_bytes());
}

#[actix_web::test]
async fn with_a_revocation_store_other_devices_are_signed_out_without_a_credential_change() {
    let (c, dir) = (clock(), directory());
    let auth = live(&c, &dir)
        .revocations(session_core::revocation::MemoryRevocations::new())
        .build()
        .unwrap();
    let app = test_app(auth, |cfg| {
        cfg.app_data(web::Data::new(Arc::clone(&dir)))
            .service(sign_in)
            .service(me)
            .service(elsewhere);
    })
    .await;
    let laptop = login(&app, "/login/alice").await;
    let phone = login(&app, "/login/alice").await;
    c.advance(Duration::from_secs(1));
    let res = call(&app, post("/elsewhere").cookie(laptop.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let laptop = session_cookie(&res).expect("re-issued under the new generation");
    assert_eq!(
        call(&app, get("/me").cookie(laptop)).await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        call(&app, get("/me").cookie(phone)).await.status(),
        StatusCode::UNAUTHORIZED,
        "the other one is revoked"
    );
}

#[actix_web::test]
async fn the_cookie_carries_a_truncated_mac_of_the_fingerprint_never_the_fingerprint() {
    let (c, dir) = (clock(), directory());
    dir.update("alice", |a| {
        a.password_hash = "$argon2id$v=19$m=19456$SECRETHASH".into()
    });
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let cookie = login(&app, "/login/alice").await;
    let payload = cookie.value().split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let fp = claims["fp"].as_str().expect("fp claim");
    assert_eq!(fp.len(), 22, "128 bits, base64url");
    let text = String::from_utf8(json).unwrap();
    assert!(
        !text.contains("SECRETHASH") && !text.contains("argon2"),
        "{text}"
    );
    assert!(claims.get("roles").is_none(), "Login::user copies no roles");
}

#[actix_web::test]
async fn a_failing_store_answers_503_and_keeps_the_session() {
    let (c, dir) = (clock(), directory());
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let bob = login(&app, "/login/bob").await;
    dir.set_health(Health::Failing);
    let res = call(&app, get("/me").cookie(bob.clone())).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
    assert!(session_cookie(&res).is_none(), "never a sign-out");
    let body: serde_json::Value = read_body_json(res).await;
    assert_eq!(
        body,
        serde_json::json!({ "error": "user_store_unavailable" })
    );

    let req = get("/admin")
        .insert_header((header::ACCEPT, "text/html"))
        .cookie(bob.clone());
    let res = call(&app, req).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let content_type = res.headers().get(header::CONTENT_TYPE).unwrap();
    assert!(content_type.to_str().unwrap().starts_with("text/html"));

    dir.set_health(Health::Up);
    assert_eq!(
        call(&app, get("/me").cookie(bob.clone())).await.status(),
        StatusCode::OK,
        "still signed in"
    );
}

#[actix_web::test]
async fn a_hanging_store_times_out_with_503() {
    let (c, dir) = (clock(), directory());
    let auth = live(&c, &dir)
        .users(Users::new(Arc::clone(&dir)).timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let app = app(auth, &dir).await;
    let bob = login(&app, "/login/bob").await;
    dir.set_health(Health::Hanging);
    let started = std::time::Instant::now();
    let res = call(&app, get("/me").cookie(bob.clone())).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(session_cookie(&res).is_none());
    assert!(started.elapsed() < Duration::from_secs(30));
    dir.set_health(Health::Up);
    assert_eq!(
        call(&app, get("/me").cookie(bob.clone())).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn the_user_cache_is_off_by_default_and_bounded_by_its_ttl() {
    let (c, dir) = (clock(), directory());
    let uncached = app(live(&c, &dir).build().unwrap(), &dir).await;
    let alice = login(&uncached, "/login/alice").await;
    assert_eq!(
        call(&uncached, get("/admin").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    dir.update("alice", |a| a.roles.clear());
    let res = call(&uncached, get("/admin").cookie(alice.clone())).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "TTL 0");

    let (c, dir) = (clock(), directory());
    let auth = live(&c, &dir)
        .users(Users::new(Arc::clone(&dir)).cache_ttl(Duration::from_secs(5)))
        .build()
        .unwrap();
    let app = app(auth, &dir).await;
    let alice = login(&app, "/login/alice").await;
    assert_eq!(
        call(&app, get("/admin").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    let loads = dir.loads();
    dir.update("alice", |a| a.roles.clear());
    c.advance(Duration::from_secs(4));
    assert_eq!(
        call(&app, get("/admin").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::OK,
        "within the TTL the worker's copy stands"
    );
    assert_eq!(dir.loads(), loads, "served from the cache");
    c.advance(Duration::from_secs(1));
    assert_eq!(
        call(&app, get("/admin").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "seen within 5 s"
    );
}

#[actix_web::test]
async fn async_checks_reach_app_state_and_run_only_when_needed() {
    let (c, dir) = (clock(), directory());
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let alice = login(&app, "/login/alice").await;
    let bob = login(&app, "/login/bob").await;
    assert_eq!(
        call(&app, get("/allow-listed").cookie(bob.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&app, get("/allow-listed").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, get("/allow-listed")).await.status(),
        StatusCode::UNAUTHORIZED,
        "anonymous: no check runs"
    );
    let before = ASYNC_CHECKS.load(Ordering::SeqCst);
    assert_eq!(
        call(&app, get("/admin-or-listed").cookie(alice.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        ASYNC_CHECKS.load(Ordering::SeqCst),
        before,
        "the admin role decides; the async check is not run"
    );
    assert_eq!(
        call(&app, get("/admin-or-listed").cookie(bob.clone()))
            .await
            .status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn current_or_option_current_without_a_store_is_a_500_naming_the_fix() {
    let c = clock();
    let dir = directory();
    let app = app(builder(&c).build().unwrap(), &dir).await;
    let bob = login(&app, "/login/bob").await;
    let res = call(&app, get("/me").cookie(bob.clone())).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = String::from_utf8(read_body(res).await.to_vec()).unwrap();
    assert!(
        body.contains("register a user store with .users(..)"),
        "{body}"
    );
    assert_eq!(dir.loads(), 0);
    // `Option<Current<U>>` without a store is the same mistake, not `None`.
    let res = call(&app, get("/maybe").cookie(bob)).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = String::from_utf8(read_body(res).await.to_vec()).unwrap();
    assert!(
        body.contains("register a user store with .users(..)"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_session_from_before_the_store_was_configured_ends() {
    let (c, dir) = (clock(), directory());
    // Signed in with `Login::new` (no fingerprint) while the store's user has one.
    let stateless = builder(&c).build().unwrap();
    let cookie = signed_in_cookie(&stateless, Login::new("bob")).unwrap();
    let app = app(live(&c, &dir).build().unwrap(), &dir).await;
    let res = call(&app, get("/me").cookie(cookie.clone())).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(session_cookie(&res).map(|c| is_removal(&c)), Some(true));
}

#[actix_web::test]
async fn fingerprints_survive_key_rotation() {
    let (c, dir) = (clock(), directory());
    let old = AuthSession::builder(tests::key(1))
        .clock(c.clone())
        .users(Arc::clone(&dir))
        .build()
        .unwrap();
    let cookie = signed_in_cookie(&old, Login::user(&dir.get("alice").unwrap())).unwrap();
    let rotated = live(&c, &dir)
        .previous_keys([tests::key(1)])
        .build()
        .unwrap();
    let during = app(rotated, &dir).await;
    let res = call(&during, get("/admin").cookie(cookie.clone())).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "old key still verifies the fingerprint"
    );
    let resigned = session_cookie(&res).expect("re-issued under the current key");
    assert_eq!(resigned.name(), COOKIE);
    // Only the current key now: the re-issued cookie's fingerprint MAC is under it too.
    let after = app(live(&c, &dir).build().unwrap(), &dir).await;
    assert_eq!(
        call(&after, get("/admin").cookie(resigned.clone()))
            .await
            .status(),
        StatusCode::OK
    );
    let retired = call(&after, get("/admin").cookie(cookie.clone())).await;
    assert_eq!(
        retired.status(),
        StatusCode::UNAUTHORIZED,
        "the old key is gone"
    );
}

#[actix_web::test]
async fn the_app_draws_its_403_page_and_fresh_failures_go_to_reauth_url() {
    #[get("/fresh")]
    #[authorize(authenticated, fresh = 60)]
    async fn fresh() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let (c, dir) = (clock(), directory());
    let auth = live(&c, &dir)
        .redirects(|r| r.reauth_url("/confirm"))
        .forbidden_page(|req| {
            let user = user_name(req);
            format!("<h1>no entry for {user} at {}</h1>", req.path())
        })
        .build()
        .unwrap();
    let app = test_app(auth, |cfg| {
        cfg.app_data(web::Data::new(Arc::clone(&dir)))
            .service(sign_in)
            .service(admin)
            .service(fresh);
    })
    .await;
    let bob = login(&app, "/login/bob").await;
    let html = |path: &str, cookie: &Cookie<'static>| {
        get(path)
            .insert_header((header::ACCEPT, "text/html"))
            .cookie(cookie.clone())
    };
    let res = call(&app, html("/admin", &bob)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(read_body(res).await, "<h1>no entry for bob at /admin</h1>");
    let res = call(&app, get("/admin").cookie(bob.clone())).await;
    let body: serde_json::Value = read_body_json(res).await;
    assert_eq!(
        body["error"], "forbidden",
        "JSON clients keep the JSON answer"
    );

    c.advance(Duration::from_secs(61));
    let res = call(&app, html("/fresh", &bob)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/confirm?next=/fresh&reason=reauthenticate"
    );
}

/// The signed-in user's id, read synchronously (the `AuthUser` extractor is always ready).
fn user_name(req: &HttpRequest) -> String {
    use actix_web::FromRequest;
    let user = AuthUser::extract(req).into_inner().ok();
    user.map_or_else(|| "nobody".to_owned(), |u| u.id().to_owned())
}

/// One run of the live-user outcomes against `dir`'s store answering at once or only through
/// `load`, with or without the user cache: per step, the status, what happened to the cookie,
/// the loads it cost and the sessions it refused.
async fn live_outcomes(at_once: bool, cache_ttl: u64) -> Vec<String> {
    let (c, dir) = (clock(), directory());
    dir.answer_at_once(at_once);
    let refused = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&refused);
    let users = Users::new(Arc::clone(&dir))
        .cache_ttl(Duration::from_secs(cache_ttl))
        .timeout(Duration::from_millis(200));
    let auth = live(&c, &dir)
        .users(users)
        .on_security_event(move |event| {
            if let SecurityEvent::SessionRefused { reason } = event {
                sink.lock().unwrap().push(*reason);
            }
        })
        .build()
        .unwrap();
    let app = app(auth, &dir).await;
    let mut trace = Vec::new();
    let mut step = |name: &str, res: &actix_web::dev::ServiceResponse, loads: usize| {
        let cookie = match session_cookie(res) {
            None => "kept",
            Some(cookie) if is_removal(&cookie) => "removed",
            Some(_) => "set",
        };
        let refused = std::mem::take(&mut *refused.lock().unwrap());
        trace.push(format!(
            "{name}: {} {cookie} loads={loads} refused={refused:?}",
            res.status().as_u16()
        ));
    };
    let get_me = |cookie: &Cookie<'static>| get("/me").cookie(cookie.clone());
    let alice = login(&app, "/login/alice").await;
    let bob = login(&app, "/login/bob").await;
    for name in ["live", "live again"] {
        let loads = dir.loads();
        let res = call(&app, get_me(&alice)).await;
        step(name, &res, dir.loads() - loads);
    }
    dir.set_health(Health::Failing);
    for (name, cookie) in [
        ("store error", &bob),
        ("store error, loaded before", &alice),
    ] {
        let loads = dir.loads();
        let res = call(&app, get_me(cookie)).await;
        step(name, &res, dir.loads() - loads);
    }
    dir.set_health(Health::Up);
    let loads = dir.loads();
    let res = call(&app, get_me(&bob)).await;
    step("store back", &res, dir.loads() - loads);

    dir.update("alice", |a| a.password_hash.push('!'));
    dir.delete("bob");
    for round in ["", ", cache expired"] {
        for (name, cookie) in [("credentials changed", &alice), ("user gone", &bob)] {
            let loads = dir.loads();
            let res = call(&app, get_me(cookie)).await;
            step(&format!("{name}{round}"), &res, dir.loads() - loads);
        }
        c.advance(Duration::from_secs(cache_ttl + 1));
    }

    let alice = login(&app, "/login/alice").await;
    let loads = dir.loads();
    let res = call(&app, get_me(&alice)).await;
    step("signed in again", &res, dir.loads() - loads);
    dir.set_health(Health::Hanging);
    let loads = dir.loads();
    let res = call(&app, get_me(&alice)).await;
    let hanging = dir.loads() - loads;
    step("store hangs", &res, hanging);
    // Every load but the hanging one was answered at once, or none.
    let at_once_loads = if at_once { dir.loads() - hanging } else { 0 };
    assert_eq!(dir.answered_at_once(), at_once_loads, "at_once={at_once}");
    trace
}

#[actix_web::test]
async fn a_store_answering_at_once_gives_the_outcomes_of_one_that_waits() {
    let uncached = [
        "live: 200 kept loads=1 refused=[]",
        "live again: 200 kept loads=1 refused=[]",
        "store error: 503 kept loads=1 refused=[]",
        "store error, loaded before: 503 kept loads=1 refused=[]",
        "store back: 200 kept loads=1 refused=[]",
        "credentials changed: 401 removed loads=1 refused=[\"credentials_changed\"]",
        "user gone: 401 removed loads=1 refused=[\"user_gone\"]",
        "credentials changed, cache expired: 401 removed loads=1 refused=[\"credentials_changed\"]",
        "user gone, cache expired: 401 removed loads=1 refused=[\"user_gone\"]",
        "signed in again: 200 kept loads=1 refused=[]",
        "store hangs: 503 kept loads=1 refused=[]",
    ];
    // With the cache, a record loaded within the TTL keeps its session going (store down,
    // credentials changed or user deleted since); past the TTL it is loaded again.
    let cached = [
        "live: 200 kept loads=1 refused=[]",
        "live again: 200 kept loads=0 refused=[]",
        "store error: 503 kept loads=1 refused=[]",
        "store error, loaded before: 200 kept loads=0 refused=[]",
        "store back: 200 kept loads=1 refused=[]",
        "credentials changed: 200 kept loads=0 refused=[]",
        "user gone: 200 kept loads=0 refused=[]",
        "credentials changed, cache expired: 401 removed loads=1 refused=[\"credentials_changed\"]",
        "user gone, cache expired: 401 removed loads=1 refused=[\"user_gone\"]",
        "signed in again: 200 kept loads=1 refused=[]",
        "store hangs: 200 kept loads=0 refused=[]",
    ];
    for (cache_ttl, want) in [(0, uncached), (60, cached)] {
        for at_once in [false, true] {
            assert_eq!(
                live_outcomes(at_once, cache_ttl).await,
                want,
                "at_once={at_once}, cache_ttl={cache_ttl}"
            );
        }
    }
}

#[test]
fn load_now_defaults_to_waiting_and_shared_handles_forward_it() {
    struct Waits;
    impl UserStore for Waits {
        type User = Account;
        type Error = String;
        async fn load(&self, id: &str) -> Result<Option<Account>, String> {
            Ok(Some(Account::new(id, &[])))
        }
    }
    assert!(Waits.load_now("alice").is_none(), "the default waits");
    assert!(Arc::new(Waits).load_now("alice").is_none());

    let dir = directory();
    dir.answer_at_once(true);
    let alice = Some(Account::new("alice", &["admin"]));
    let answer = |a: Option<Result<Option<Arc<Account>>, String>>| {
        a.map(|a| a.map(|a| a.as_deref().cloned()))
    };
    assert_eq!(answer(dir.load_now("alice")), Some(Ok(alice.clone())));
    assert_eq!(
        answer(Arc::clone(&dir).load_now("alice")),
        Some(Ok(alice.clone()))
    );
    let data = web::Data::from(Arc::clone(&dir));
    assert_eq!(answer(data.load_now("alice")), Some(Ok(alice)));
    assert_eq!(answer(data.load_now("carol")), Some(Ok(None)));
}
